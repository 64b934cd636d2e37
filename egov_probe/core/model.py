"""The report model: one report per audited host, one result per check.

Every report carries ``schema_version``; the JSON Schema published in
``egov_probe/schema/report.schema.json`` describes exactly what ``Report.to_dict`` writes.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "1.1"
# Versions this egov-probe reads: 1.1 added host.machine_id and host.smbios_uuid (issue 14);
# a 1.0 report still reads, as a host without a machine id.
READABLE_SCHEMA_VERSIONS = ("1.0", "1.1")


class Status(str, enum.Enum):
    """Outcome of one check."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIPPED = "skipped"


BLOCKING = frozenset({Status.FAIL, Status.ERROR})


class Outcome(str, enum.Enum):
    """How far the audit of a host got."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    UNREACHABLE = "unreachable"
    AUTH_FAILED = "auth_failed"
    HOST_KEY_MISMATCH = "host_key_mismatch"
    TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Text:
    """A sentence in Vietnamese (first) and English."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Evidence:
    """Where a fact came from: a registry value, a file, a package database, a command..."""

    source: str
    location: str
    value: str | None = None


@dataclass
class CheckResult:
    """The judgement of one fact against the policy."""

    id: str
    category: str
    title: Text
    status: Status
    observed: Any = None
    expected: Any = None
    evidence: list[Evidence] = field(default_factory=list)
    remedy: Text | None = None
    duration_ms: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OsInfo:
    name: str
    version: str
    build: str
    arch: str


@dataclass
class HostIdentity:
    """Who the host is. ``machine_id``: the machine's own id (``/etc/machine-id`` on Linux,
    ``MachineGuid`` on Windows, lower case); ``smbios_uuid``: the firmware's UUID where
    readable. Two machines cloned from one image share a hostname, often their machine id too
    (cloned without sysprep), never their SMBIOS UUID."""

    hostname: str
    kind: str = "workstation"
    unit_id: str | None = None
    officer: str | None = None
    address: str | None = None
    os: OsInfo | None = None
    machine_id: str | None = None
    smbios_uuid: str | None = None


@dataclass(frozen=True)
class PolicyRef:
    id: str
    sha256: str
    path: str


@dataclass
class Report:
    """One audit of one host."""

    report_id: str
    host: HostIdentity
    policy: PolicyRef
    started_at: str
    finished_at: str
    utc_offset: str
    transport: str = "local"
    outcome: Outcome = Outcome.COMPLETE
    probe_version: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    checks: list[CheckResult] = field(default_factory=list)
    schema_version: str = SCHEMA_VERSION

    def counts(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for check in self.checks:
            counts[check.status.value] += 1
        return counts

    def readiness(self) -> str:
        """``ready``, ``ready_with_conditions`` or ``not_ready``."""
        if self.outcome is not Outcome.COMPLETE:
            return "not_ready"
        statuses = {check.status for check in self.checks}
        if statuses & BLOCKING:
            return "not_ready"
        return "ready_with_conditions" if Status.WARN in statuses else "ready"

    def to_dict(self) -> dict[str, Any]:
        data = json_form(self)
        data["summary"] = {"readiness": self.readiness(), "counts": self.counts()}
        return data


def json_form(value: Any) -> Any:
    """Dataclasses and enums to JSON-ready values, keeping field order."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_form(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): json_form(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_form(v) for v in value]
    return value


def report_from_dict(data: dict[str, Any]) -> Report:
    """Rebuild a Report from its JSON form (validate it against the schema first)."""
    host = dict(data["host"])
    host["os"] = OsInfo(**host["os"]) if host.get("os") else None
    checks = [check_from_dict(c) for c in data.get("checks", [])]
    return Report(
        report_id=data["report_id"],
        host=HostIdentity(**host),
        policy=PolicyRef(**data["policy"]),
        started_at=data["started_at"],
        finished_at=data["finished_at"],
        utc_offset=data["utc_offset"],
        transport=data["transport"],
        outcome=Outcome(data["outcome"]),
        probe_version=data["probe_version"],
        facts=data.get("facts", {}),
        checks=checks,
        schema_version=data["schema_version"],
    )


def check_from_dict(data: dict[str, Any]) -> CheckResult:
    """A check from its JSON form (``json_form`` of a CheckResult)."""
    remedy = data.get("remedy")
    return CheckResult(
        id=data["id"],
        category=data["category"],
        title=Text(**data["title"]),
        status=Status(data["status"]),
        observed=data.get("observed"),
        expected=data.get("expected"),
        evidence=[Evidence(**e) for e in data.get("evidence", [])],
        remedy=Text(**remedy) if remedy else None,
        duration_ms=data.get("duration_ms", 0.0),
        details=data.get("details", {}),
    )
