"""What one check observed, and its conversion into the egov_probe report model."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egov_probe import __version__
from egov_probe.core.clock import utc_now, utc_text
from egov_probe.core.model import (CheckResult, Evidence, HostIdentity, OsInfo, Outcome, PolicyRef,
                                   Report, Status, Text)

CHECKS_DIR = Path(__file__).resolve().parent
POLICY_ID = "egov-server-checks"


@dataclass
class Record:
    """Filled by a check while it runs: what it saw, what it wanted, where from."""

    observed: Any = None
    expected: Any = None
    evidence: list[Evidence] = field(default_factory=list)
    warning: str | None = None

    def cite(self, source: str, location: str, value: Any) -> Any:
        self.evidence.append(Evidence(source, location, None if value is None else str(value)))
        return value

    def warn(self, reason: str) -> None:
        self.warning = reason


@dataclass
class CheckOutcome:
    """One finished check on one host."""

    host: str
    meta: Any
    status: Status
    record: Record
    duration_ms: float
    message: str = ""


def status_of(report, call, record: Record) -> Status:
    """pytest's verdict to the model's: a failed assertion fails, any other exception errs."""
    if report.skipped:
        return Status.SKIPPED
    if report.failed:
        failed_assert = report.when == "call" and call.excinfo.errisinstance(AssertionError)
        return Status.FAIL if failed_assert else Status.ERROR
    return Status.WARN if record.warning else Status.PASS


def check_result(outcome: CheckOutcome) -> CheckResult:
    meta, record = outcome.meta, outcome.record
    details = {"message": outcome.message} if outcome.message else {}
    if record.warning:
        details["warning"] = record.warning
    return CheckResult(id=meta.id, category="server", title=Text(*meta.title),
                       status=outcome.status, observed=record.observed, expected=record.expected,
                       evidence=record.evidence, remedy=Text(*meta.remedy),
                       duration_ms=round(outcome.duration_ms, 1), details=details)


def policy_ref() -> PolicyRef:
    digest = hashlib.sha256()
    for path in sorted(CHECKS_DIR.glob("*.py")):
        digest.update(path.read_bytes())
    return PolicyRef(POLICY_ID, digest.hexdigest(), "checks/")


@dataclass
class HostFacts:
    """Identity of an audited server, read once per host."""

    hostname: str
    address: str | None
    os: OsInfo | None
    utc_offset: str
    machine_id: str | None = None  # /etc/machine-id (report schema 1.1)
    smbios_uuid: str | None = None


def build_report(facts: HostFacts, outcomes: list[CheckOutcome], started) -> Report:
    checks = [check_result(o) for o in outcomes]
    broken = any(c.status is Status.ERROR for c in checks)
    return Report(report_id=uuid.uuid4().hex, host=HostIdentity(facts.hostname, kind="server",
                  address=facts.address, os=facts.os, machine_id=facts.machine_id,
                  smbios_uuid=facts.smbios_uuid),
                  policy=policy_ref(), started_at=utc_text(started),
                  finished_at=utc_text(utc_now()),
                  utc_offset=facts.utc_offset, transport="testinfra",
                  outcome=Outcome.PARTIAL if broken else Outcome.COMPLETE,
                  probe_version=__version__, checks=checks)
