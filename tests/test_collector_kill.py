"""SIGKILL in the middle of uploads (marker ``services``): the collector's server, and a probe.

The real ``egov-probe serve`` (uvicorn, TLS with a TestCA certificate, on loopback) over
SQLite or a real PostgreSQL (tests/pg.py), and real ``egov-probe upload`` processes:

- the server is killed (SIGKILL: no shutdown, as a power cut) twice while three probes upload,
  and started again on the same port: when the probes are done, every report is stored once;
- a probe is killed while it sends: its outbox on disk survives intact, and a second
  ``egov-probe upload`` sends what was left; every report is stored once.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.collector_e2e import (count_stored, logs, pilot_units, stored, wait_all,
                                 write_reports)
from tests.servers.ca import TestCA
from tests.servers.collector import CollectorServer, Probe
from tests.test_store_factory import pg_server, store_target  # noqa: F401 - fixtures

pytestmark = [pytest.mark.services]

UPLOAD_TIMEOUT_S = 600
POLL_S = 0.02


def _wait_stored(store: str, at_least: int, runs, timeout: float = 300) -> int:
    """Poll the store until it holds ``at_least`` reports (or every upload ended)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        count = count_stored(store)
        if count >= at_least or all(run.poll() is not None for run in runs):
            return count
        time.sleep(POLL_S)
    raise AssertionError(f"fewer than {at_least} reports stored after {timeout} s")


def _enrolled(server: CollectorServer, folder, units: list[str]) -> list[Probe]:
    probes = [Probe(folder / f"probe-{i}", unit, server) for i, unit in enumerate(units)]
    for probe in probes:
        enrolled = probe.enroll(server.token(probe.unit_id))
        assert enrolled.returncode == 0, enrolled.stderr
    return probes


def _stop(probes: list[Probe], server: CollectorServer) -> None:
    """Whatever happened: no probe and no server left running."""
    for probe in probes:
        probe.kill()
    server.stop()


def test_a_server_killed_mid_upload_loses_nothing_and_stores_nothing_twice(store_target,
                                                                          tmp_path):
    probes_count, reports = 3, 60
    total = probes_count * reports
    server = CollectorServer(store_target, tmp_path / "server", TestCA(tmp_path / "ca")).start()
    probes: list[Probe] = []
    try:
        probes += _enrolled(server, tmp_path, pilot_units(probes_count))
        expected = {p.unit_id: write_reports(tmp_path / "reports" / p.unit_id, p.unit_id,
                                             reports) for p in probes}
        runs = [p.upload(sorted(expected[p.unit_id].values())) for p in probes]
        at_kills = []
        for threshold in (total // 5, total // 2):
            at_kills.append(_wait_stored(store_target, threshold, runs))
            server.kill()
            time.sleep(1.0)  # the probes meet a closed port, then back off
            server.start()
        codes = wait_all(runs, UPLOAD_TIMEOUT_S)
    finally:
        _stop(probes, server)
    assert all(count < total for count in at_kills), f"killed too late: {at_kills}"
    assert codes == [0] * probes_count, logs(probes) + server.log()
    assert [p.waiting() for p in probes] == [[]] * probes_count
    assert all(f"sent {reports}/{reports}" in p.log() for p in probes), logs(probes)
    rows = stored(store_target)
    assert len(rows) == total
    assert {row[0] for row in rows} == {rid for r in expected.values() for rid in r}


def test_a_probe_killed_mid_upload_keeps_its_outbox_and_sends_it_once(tmp_path):
    store = str(tmp_path / "store.sqlite")
    reports = 150
    server = CollectorServer(store, tmp_path / "server", TestCA(tmp_path / "ca")).start()
    probes: list[Probe] = []
    try:
        probes += _enrolled(server, tmp_path, pilot_units(1))
        [probe] = probes
        expected = write_reports(tmp_path / "reports", probe.unit_id, reports)
        first = probe.upload(sorted(expected.values()))
        at_kill = _wait_stored(store, 10, [first])
        first.kill()  # SIGKILL
        first.wait(timeout=30)
        left = probe.waiting()
        sent = {row[0] for row in stored(store)}
        # it really was killed in the middle, and nothing was lost at that moment
        assert at_kill < reports and left, f"killed too late: {at_kill} stored"
        assert sent | set(left) == set(expected)
        for report_id in left:  # what survived the kill is whole and still signed
            body = (probe.outbox / f"{report_id}.json").read_bytes()
            assert body == expected[report_id].read_bytes()
            signature = json.loads((probe.outbox / f"{report_id}.json.sig").read_text())
            assert signature["format"] == "egov-report-signature/1"
        second = probe.upload()  # no files: sends what the outbox holds
        [code] = wait_all([second], UPLOAD_TIMEOUT_S)
    finally:
        _stop(probes, server)
    assert code == 0, probe.log() + server.log()
    assert probe.waiting() == []
    assert f"sent {len(left)}/{len(left)}" in probe.log()  # the second run sent what was left
    rows = stored(store)
    assert len(rows) == reports
    assert {row[0] for row in rows} == set(expected)
