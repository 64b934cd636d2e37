"""What the collector refuses to take at once: reports over the size limit (a gzip bomb is
cut at the limit), too many requests from one key (429), too many waiting on the store (503).
SQLite only: the limits live in the app, not in the store."""

from __future__ import annotations

import gzip
import json
import sqlite3
import threading
import time

import pytest

from egov_probe.collector.limits import ApiLimits, RateLimiter
from tests.collector.conftest import enroll_probe, make_context, report_bytes, running_collector, upload
from tests.test_store_factory import make_report

UNIT = "xa-ma-thanh"
LIMIT = 64 * 1024


@pytest.fixture
def store(tmp_path) -> str:
    return str(tmp_path / "store.sqlite")


def put(collector, probe, body: bytes, encoding: str) -> tuple[int, dict]:
    headers = {"X-Egov-Key-Id": probe.key_id, "X-Egov-Signature": "AAAA",
               "Content-Encoding": encoding}
    reply = collector.request("PUT", "/v1/reports/r1", body, headers)
    return reply.status, reply.json()


def test_reports_over_the_limit_are_413_even_as_a_gzip_bomb(store, tmp_path):
    with running_collector(make_context(store, max_report_bytes=LIMIT), tmp_path) as collector:
        probe = enroll_probe(collector, UNIT)
        status, body = put(collector, probe, b" " * (LIMIT + 1), "identity")
        assert (status, body["error"]) == (413, "too_large")
        bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), 9)  # 64 MiB in ~64 KiB
        assert len(bomb) < LIMIT
        status, body = put(collector, probe, bomb, "gzip")
        assert (status, body["error"]) == (413, "too_large")
        raw = report_bytes(make_report(unit_id=UNIT))  # within the limit: taken
        assert upload(collector, probe, raw).status == 201


def test_one_key_sending_too_fast_gets_429_with_retry_after(store, tmp_path):
    limits = ApiLimits(rate_per_key=0.01, burst_per_key=3)
    with running_collector(make_context(store, limits=limits), tmp_path) as collector:
        probe, other = enroll_probe(collector, UNIT), enroll_probe(collector, UNIT, "m-2")
        replies = [upload(collector, probe, report_bytes(make_report(unit_id=UNIT)))
                   for _ in range(4)]
        assert [r.status for r in replies] == [201, 201, 201, 429]
        assert replies[-1].json()["error"] == "rate_limited"
        assert int(replies[-1].headers["retry-after"]) >= 1
        # another key of the same unit has its own bucket
        assert upload(collector, other, report_bytes(make_report(unit_id=UNIT))).status == 201


def test_the_rate_limiter_refills_with_time():
    now = [0.0]
    limiter = RateLimiter(rate=2, burst=2, clock=lambda: now[0])
    assert [limiter.retry_after("k") for _ in range(3)] == [None, None, 1]
    now[0] = 0.5
    assert limiter.retry_after("k") is None and limiter.retry_after("k") == 1


def test_requests_beyond_the_store_queue_get_503_with_retry_after(store, tmp_path):
    """The store is held by another writer (a long import): the first upload waits for it, the
    next one is told to come back later instead of piling up."""
    limits = ApiLimits(store_workers=1, store_waiting=1, busy_retry_after=3)
    with running_collector(make_context(store, limits=limits), tmp_path) as collector:
        probe = enroll_probe(collector, UNIT)
        first, second = (report_bytes(make_report(unit_id=UNIT)) for _ in range(2))
        blocker = sqlite3.connect(store, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        replies = {}
        waiting = threading.Thread(target=lambda: replies.setdefault(
            "first", upload(collector, probe, first)))
        waiting.start()
        try:
            _wait_until(lambda: collector.app.state.api.gate.busy == 1)
            busy = upload(collector, probe, second)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
            waiting.join(60)
        assert (busy.status, busy.json()["error"], busy.headers["retry-after"]) == \
            (503, "busy", "3")
        assert replies["first"].status == 201
        assert upload(collector, probe, second).status == 201


def _wait_until(condition, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never came"
        time.sleep(0.01)
