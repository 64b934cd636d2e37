"""Shared by the collector's tests (and the page's and end-to-end tests): a real uvicorn on
127.0.0.1 with a certificate from a test CA, a small stdlib client, enrolled test probes.

    def test_x(collector):                    # SQLite and PostgreSQL, default limits
        probe = enroll_probe(collector, "xa-ma-thanh")
        reply = upload(collector, probe, report_bytes(make_report(machine_id="m1")))

    def test_y(store_target, tmp_path):       # own limits
        with running_collector(make_context(store_target, limits=...), tmp_path) as c: ...
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from egov_probe.collector.access import create_token
from egov_probe.collector.app import build_app
from egov_probe.collector.context import CollectorContext
from egov_probe.core.model import Report
from egov_probe.core.signing import (generate_private_key, key_id_of, public_key_text,
                                     sign_report)
from egov_probe.core.units import load_units_csv
from egov_probe.matrix.inventory import UnitInfo
from egov_probe.store import open_database
from tests.servers.ca import TestCA
from tests.servers.ports import free_port
from tests.test_store_factory import make_report, pg_server, store_target  # noqa: F401

HOST = "127.0.0.1"
SECRET = b"s" * 32


def shipped_units() -> list[UnitInfo]:
    return [UnitInfo(unit, unit.workstations_expected) for unit in load_units_csv()]


def make_context(target: str, **options: Any) -> CollectorContext:
    """A collector over the store at ``target`` (migrated here, as ``serve`` does) with the
    shipped units."""
    open_database(target).close()
    return CollectorContext(open_database=lambda: open_database(target, migrate=False),
                            units=shipped_units(), session_secret=SECRET, **options)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class RunningCollector:
    """A collector app served by uvicorn in a thread of the test process."""

    app: Any
    ctx: CollectorContext
    port: int
    ca_file: Path
    store: str = ""
    server: Any = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"

    def connection(self, timeout: float = 30) -> http.client.HTTPSConnection:
        context = ssl.create_default_context(cafile=str(self.ca_file))
        return http.client.HTTPSConnection(HOST, self.port, context=context, timeout=timeout)

    def request(self, method: str, path: str, body: bytes = b"",
                headers: Optional[dict[str, str]] = None) -> Reply:
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()},
                         response.read())
        finally:
            connection.close()

    def database(self):
        """A connection of the test's own to the collector's store (close it)."""
        return self.ctx.open_database()


def issue_certificate(folder: Path) -> tuple[Path, Path, Path]:
    """(CA file, certificate, key) for 127.0.0.1 and localhost."""
    ca = TestCA(folder / "ca")
    issued = ca.issue("collector", HOST, "localhost")
    return ca.root.cert, issued.cert, issued.key


@contextlib.contextmanager
def running_collector(ctx: CollectorContext, folder: Path) -> Iterator[RunningCollector]:
    """uvicorn with TLS on a free port of 127.0.0.1, stopped (and its thread joined) after."""
    import uvicorn

    ca_file, cert, key = issue_certificate(folder)
    app, port = build_app(ctx), free_port(HOST)
    config = uvicorn.Config(app, host=HOST, port=port, ssl_certfile=str(cert),
                            ssl_keyfile=str(key), lifespan="on", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-collector", daemon=True)
    thread.start()
    try:
        _wait_started(server, thread)
        yield RunningCollector(app, ctx, port, ca_file, server=server)
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the collector did not stop"


def _wait_started(server, thread: threading.Thread, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the collector did not start")
        time.sleep(0.02)


@pytest.fixture
def collector(store_target, tmp_path) -> Iterator[RunningCollector]:  # noqa: F811
    """A collector with the default limits over an SQLite store and a real PostgreSQL."""
    with running_collector(make_context(store_target), tmp_path) as running:
        running.store = store_target
        yield running


@dataclass(frozen=True)
class TestProbe:
    """An enrolled probe: its private key and key id, its unit and machine."""

    __test__ = False

    private_key: Any
    key_id: str
    unit_id: str
    machine_id: str


def new_token(collector: RunningCollector, unit_id: str, **options: Any) -> str:
    """A token made straight in the store (the ``token`` command does the same)."""
    database = collector.database()
    try:
        now = options.pop("now", dt.datetime.now(dt.timezone.utc))
        return create_token(database, unit_id, now, **options).token
    finally:
        database.close()


def enroll_request(collector: RunningCollector, token: str, private_key,
                   machine_id: Optional[str] = "m-0001", hostname: str = "ws1") -> Reply:
    body = json.dumps({"token": token, "public_key": public_key_text(private_key),
                       "hostname": hostname, "machine_id": machine_id}).encode()
    return collector.request("POST", "/v1/enroll", body, {"Content-Type": "application/json"})


def enroll_probe(collector: RunningCollector, unit_id: str = "xa-ma-thanh",
                 machine_id: str = "m-0001") -> TestProbe:
    key = generate_private_key()
    reply = enroll_request(collector, new_token(collector, unit_id), key, machine_id)
    assert reply.status == 201, reply.body
    assert reply.json()["key_id"] == key_id_of(public_key_text(key))
    return TestProbe(key, reply.json()["key_id"], unit_id, machine_id)


def report_bytes(report: Report) -> bytes:
    return (json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def upload(collector: RunningCollector, probe: TestProbe, raw: bytes,
           report_id: Optional[str] = None, compress: bool = True,
           outbox: Optional[int] = None, signed: Optional[bytes] = None,
           key_id: Optional[str] = None) -> Reply:
    """PUT the report as the sender does; ``signed``: other bytes to sign (a bad signature)."""
    signature = sign_report(probe.private_key, raw if signed is None else signed)
    headers = {"Content-Type": "application/json", "X-Egov-Key-Id": key_id or probe.key_id,
               "X-Egov-Signature": signature.signature}
    if compress:
        headers["Content-Encoding"] = "gzip"
    if outbox is not None:
        headers["X-Egov-Outbox"] = str(outbox)
    report_id = report_id or json.loads(raw)["report_id"]
    return collector.request("PUT", f"/v1/reports/{report_id}",
                             gzip.compress(raw) if compress else raw, headers)
