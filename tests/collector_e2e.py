"""What the collector's end-to-end tests share: report files for a unit (the real model, enough
checks to span several TCP segments once compressed), what the store holds, waiting for
uploads to finish."""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

from egov_probe.matrix import load_unit_infos
from egov_probe.store import open_database
from egov_probe.store.queries import count_reports
from tests.servers.collector import Probe
from tests.test_store_factory import make_report, write_report

CATEGORIES = ("system", "browser", "network", "signature", "mailbox", "clock")
STATUSES = ("pass", "pass", "pass", "pass", "warn", "fail")
START = dt.datetime(2015, 11, 2, 1, 0)


def pilot_units(count: int) -> list[str]:
    """The first ``count`` units of the shipped pilot list."""
    return [info.unit.unit_id for info in load_unit_infos()][:count]


def write_reports(folder: Path, unit_id: str, count: int, checks: int = 60) -> dict[str, Path]:
    """``count`` report files of ``unit_id`` in ``folder``: {report_id: path}."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {f"{CATEGORIES[i % len(CATEGORIES)]}.item_{i:03d}": CATEGORIES[i % len(CATEGORIES)]
             for i in range(checks)}
    written = {}
    for index in range(count):
        statuses = {name: STATUSES[(index + n) % len(STATUSES)]
                    for n, name in enumerate(names)}
        started = START + dt.timedelta(minutes=7 * index)  # the file's name: one per report
        report = make_report(unit_id=unit_id, hostname=f"{unit_id[:12]}-ws{index % 4}",
                             started_at=started.strftime("%Y-%m-%dT%H:%M:%S.000000Z"),
                             checks=names, statuses=statuses)
        written[report.report_id] = write_report(report, folder)
    assert len(set(written.values())) == count, "two reports written to one file"
    return written


def stored(store: str) -> list[tuple[str, str, str]]:
    """(report_id, unit_id, key_id) of every row of the store's reports, as stored."""
    database = open_database(store)
    try:
        return [tuple(row) for row in database.query(
            "SELECT report_id, unit_id, key_id FROM reports ORDER BY report_id")]
    finally:
        database.close()


def count_stored(store: str) -> int:
    database = open_database(store)
    try:
        return count_reports(database)
    finally:
        database.close()


def wait_all(processes: list[subprocess.Popen], timeout: float) -> list[int | None]:
    """Exit codes (None: still running after ``timeout`` s; it is then killed)."""
    end = time.monotonic() + timeout
    codes: list[int | None] = []
    for process in processes:
        try:
            codes.append(process.wait(timeout=max(0.1, end - time.monotonic())))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            codes.append(None)
    return codes


def logs(probes: list[Probe]) -> str:
    return "\n".join(f"--- {p.unit_id}:\n{p.log()[-1500:]}" for p in probes)
