"""pytest plugin of the server checks: group gating, per-check records, and the reports.

Run: pytest checks/ --hosts=ansible://provincial_servers --ansible-inventory=inventory/
       --junitxml=reports/servers.xml --egov-json-dir=reports/servers
"""

from __future__ import annotations

import pytest

from checks.catalog import meta_of
from checks.hostinfo import host_facts, host_groups, host_name
from checks.record import CheckOutcome, Record, build_report, status_of
from egov_probe.core.clock import utc_now
from egov_probe.core.report_file import write_report_atomic

RESULTS = pytest.StashKey[dict]()
STARTED = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("egov").addoption(
        "--egov-json-dir", default=None,
        help="write one JSON report per audited server (egov_probe report model) here")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[RESULTS] = {}
    config.stash[STARTED] = utc_now()


@pytest.fixture
def record() -> Record:
    return Record()


@pytest.fixture(autouse=True)
def _only_for_its_groups(request: pytest.FixtureRequest) -> None:
    meta = meta_of(getattr(request, "function", None))
    if meta is None or not meta.groups:
        return
    host = request.getfixturevalue("host")
    if not set(meta.groups) & host_groups(host):
        pytest.skip(f"{host_name(host)} is in none of {', '.join(meta.groups)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = (yield).get_result()
    meta = meta_of(getattr(item, "function", None))
    done = report.when == "call" or (report.when == "setup" and not report.passed)
    if meta is None or not done or "host" not in item.funcargs:
        return
    record = item.funcargs.get("record") or Record()
    host = item.funcargs["host"]
    outcome = CheckOutcome(host_name(host), meta, status_of(report, call, record), record,
                           call.duration * 1000, _message(report))
    item.config.stash[RESULTS].setdefault(host_name(host), (host, []))[1].append(outcome)


def _message(report: pytest.TestReport) -> str:
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message.splitlines()[0] if crash else ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    out_dir = session.config.getoption("--egov-json-dir")
    if not out_dir:
        return
    started = session.config.stash[STARTED]
    for host, outcomes in session.config.stash[RESULTS].values():
        write_report_atomic(build_report(host_facts(host), outcomes, started), out_dir)

