"""Test reports built with the real model, and the store fixtures (SQLite and a real PostgreSQL).

Other test modules import from here: ``make_report``, ``write_report``, ``make_review`` and the
``database`` / ``store_target`` fixtures (parametrized: every store test runs on both).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Optional

import pytest

from egov_probe.core.atomic import write_json_atomic
from egov_probe.core.model import (CheckResult, HostIdentity, Outcome, PolicyRef, Report, Status,
                                   Text)
from egov_probe.core.report_file import validation_errors, write_report_atomic
from egov_probe.store import open_database
from egov_probe.store.validation import mailbox_review_problems

DEFAULT_CHECKS = {  # id: category
    "system.ram": "system",
    "clock.offset": "clock",
    "browser.chrome.machine": "browser",
    "network.egov_portal": "network",
    "mailbox.client": "mailbox",
    "signature.token_driver": "signature",
}
SERVER_CHECKS = {"server.nginx.tls": "server", "server.postgresql.backup": "server"}


def make_check(check_id: str, category: str, status: str = "pass") -> CheckResult:
    name = check_id.split(".", 1)[1]
    remedy = None if status in ("pass", "skipped") else Text(f"Khắc phục {name}", f"Fix {name}")
    return CheckResult(id=check_id, category=category, title=Text(f"Mục {name}", f"Item {name}"),
                       status=Status(status), observed=1, expected=2, remedy=remedy,
                       duration_ms=1.5)


def make_report(unit_id: Optional[str] = "xa-ma-thanh", hostname: str = "ws1",
                started_at: str = "2015-11-10T03:00:00.000000Z", kind: str = "workstation",
                statuses: Optional[dict[str, str]] = None, outcome: str = "complete",
                report_id: Optional[str] = None, machine_id: Optional[str] = None,
                smbios_uuid: Optional[str] = None,
                checks: Optional[dict[str, str]] = None) -> Report:
    """A report of the real model; every check passes unless ``statuses`` says otherwise.
    ``checks`` (id: category) replaces the default set of checks."""
    checks = checks if checks is not None else SERVER_CHECKS if kind == "server" \
        else DEFAULT_CHECKS
    statuses = statuses or {}
    return Report(
        report_id=report_id or uuid.uuid4().hex,
        host=HostIdentity(hostname=hostname, kind=kind, unit_id=unit_id, officer="Nguyễn Thị Thu Hà",
                          machine_id=machine_id, smbios_uuid=smbios_uuid),
        policy=PolicyRef(id="nghean-egov-2015", sha256="0" * 64, path="policy.yml"),
        started_at=started_at, finished_at=started_at, utc_offset="+07:00", transport="local",
        outcome=Outcome(outcome), probe_version="test",
        checks=[make_check(cid, cat, statuses.get(cid, "pass")) for cid, cat in checks.items()])


def write_report(report: Report, folder: Path) -> Path:
    return write_report_atomic(report, folder)


def make_review(unit_id: str = "xa-tien-thanh", officers: int = 4, working: int = 3,
                generated_at: str = "2015-11-20T02:00:00.000000Z") -> dict:
    """A mailbox review in the fixed format of issue 7."""
    outcomes = ["found"] * working + ["missing"] * (officers - working)
    return {
        "schema_version": "1.0", "kind": "mailbox_review", "review_id": uuid.uuid4().hex,
        "unit_id": unit_id, "generated_at": generated_at, "directory": "ldap://127.0.0.1:3890",
        "officers": [{"full_name": f"Cán bộ {i}", "position": "Văn thư",
                      "address": f"cb{i}@nghean.gov.vn" if o == "found" else None, "outcome": o,
                      "directory_address": f"cb{i}@nghean.gov.vn" if o == "found" else None,
                      "proposed_address": None if o == "found" else f"cb{i}@nghean.gov.vn"}
                     for i, o in enumerate(outcomes)],
        "summary": {"officers": officers, "working_mailbox": working},
    }


def write_review(review: dict, folder: Path) -> Path:
    return write_json_atomic(Path(folder) / f"mailboxes_{review['review_id']}.json", review)


@pytest.fixture(scope="session")
def pg_server():
    from tests.pg import PostgresServer

    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store_target(request, tmp_path) -> str:
    """Where a test's store lives: an SQLite file, or a fresh database on a real PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    server = request.getfixturevalue("pg_server")
    return server.create_database("t_" + uuid.uuid4().hex[:12])


@pytest.fixture
def database(store_target):
    db = open_database(store_target)
    yield db
    db.close()


def test_factory_reports_follow_the_published_schema():
    for report in (make_report(statuses={"system.ram": "fail"}), make_report(kind="server",
                                                                            unit_id=None)):
        assert validation_errors(report.to_dict()) == []


def test_factory_reviews_follow_the_published_schema():
    assert mailbox_review_problems(make_review()) == []
    broken = make_review()
    broken["officers"][0]["outcome"] = "lost"
    assert any("outcome" in p for p in mailbox_review_problems(broken))
    assert json.loads(json.dumps(make_review()))["kind"] == "mailbox_review"


@pytest.mark.parametrize("fast", [True, False], ids=["jsonschema-rs", "jsonschema-only"])
def test_validation_gives_the_same_verdict_with_or_without_the_fast_path(fast, monkeypatch):
    from egov_probe.store import validation

    if not fast:
        monkeypatch.setattr(validation, "_fast_check", lambda name: None)
    elif validation._fast_check("report") is None:
        pytest.skip("jsonschema-rs is not installed")
    good = make_report(statuses={"system.ram": "warn"}).to_dict()
    assert validation.report_problems(good) == []
    good["checks"][0]["remedy"] = None
    assert any("checks/0/remedy" in p for p in validation.report_problems(good))
    review = make_review()
    assert validation.mailbox_review_problems(review) == []
    review["summary"]["officers"] = -1
    assert any("summary/officers" in p for p in validation.mailbox_review_problems(review))


def test_a_large_report_gets_the_same_messages_from_the_quick_path():
    """jsonschema-rs finds the bad checks of a long report, jsonschema words them: the same
    lines as a full jsonschema run, check numbers included."""
    from egov_probe.store import validation

    if validation._fast_check("report") is None:
        pytest.skip("jsonschema-rs is not installed")
    data = make_report().to_dict()
    first = data["checks"][0]
    data["checks"] = [dict(first, id=f"system.c{i}") for i in range(300)]
    data["checks"][5]["status"] = "maybe"
    data["checks"][299].update(status="fail", remedy=None)
    data["host"]["extra"] = 1
    assert validation.report_problems(data) == validation_errors(data)
    assert any(p.startswith("checks/299/remedy") for p in validation.report_problems(data))
