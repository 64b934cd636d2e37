"""One report per host: the same sections and judges as the local audit, over remote evidence.

A host that could not be audited still gets a report: its outcome (unreachable, auth failed,
host key mismatch, timed out, partial) and one ``fleet.connection`` check saying why.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from typing import Any, Callable, Optional, Sequence

from .. import __version__
from ..audit.run import machine_ids, run_audit
from ..audit.sections import BrowserScan, SectionResult, browser_section, system_section
from ..core import messages
from ..core.clock import local_offset_text, utc_now, utc_text
from ..core.model import CheckResult, HostIdentity, OsInfo, Outcome, PolicyRef, Report, Status
from ..facts.base import Fact
from ..judge.policy import Policy
from .host import HostFailure, InventoryHost


@dataclasses.dataclass(frozen=True)
class RemoteEvidence:
    """What a transport brought back, ready for the judges."""

    system: dict[str, Callable[[], Optional[Fact]]]
    browsers: Callable[[], BrowserScan]
    hostname: Optional[str]
    complete: bool
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)


def host_report(policy: Policy, target: InventoryHost, evidence: RemoteEvidence, transport: str,
                run: dict[str, Any], failure: Optional[HostFailure] = None,
                extra: Sequence[SectionResult] = ()) -> Report:
    """The report of a host whose collector answered (fully, or in part); ``extra``: sections
    already run on the host (``fleet --network``)."""
    sections = [functools.partial(system_section, collectors=evidence.system),
                functools.partial(browser_section, collect=evidence.browsers)]
    sections += [functools.partial(_ran, result) for result in extra]
    report = run_audit(policy, officer=target.officer, sections=sections, transport=transport)
    outcome = Outcome.COMPLETE if evidence.complete and failure is None else \
        (failure.outcome if failure else Outcome.PARTIAL)
    if outcome is not Outcome.COMPLETE:
        failure = failure or HostFailure(Outcome.PARTIAL, "the collector stopped before its end")
        report.checks.insert(0, connection_check(target, failure))
    offset = report.facts["system"].get("utc_offset", {}).get("value")
    return dataclasses.replace(
        report, host=_identity(target, evidence.hostname, report.facts),
        outcome=outcome, utc_offset=offset or report.utc_offset,
        facts={**report.facts, **evidence.extra, "fleet": _fleet_facts(target, run, failure)})


def _ran(result: SectionResult, _policy: Policy) -> SectionResult:
    return result


def failure_report(policy: Policy, target: InventoryHost, failure: HostFailure, transport: str,
                   run: dict[str, Any]) -> Report:
    """The report of a host that could not be audited at all."""
    now = utc_now()
    return Report(report_id=uuid.uuid4().hex, host=_identity(target, None, {}),
                  policy=PolicyRef(id=policy.policy_id, sha256=policy.sha256, path=policy.path),
                  started_at=utc_text(now), finished_at=utc_text(now),
                  utc_offset=local_offset_text(now), transport=transport,
                  outcome=failure.outcome, probe_version=__version__,
                  facts={"fleet": _fleet_facts(target, run, failure)},
                  checks=[connection_check(target, failure)])


def connection_check(target: InventoryHost, failure: HostFailure) -> CheckResult:
    values = {"host": target.name, "address": target.endpoint.address, "error": failure.message,
              "fingerprint": failure.fingerprint or "?"}
    details = {"error": failure.message}
    if failure.fingerprint:
        details["host_key_fingerprint"] = failure.fingerprint
    return CheckResult(id="fleet.connection", category="network",
                       title=messages.text("fleet.connection"), status=Status.ERROR,
                       observed=failure.outcome.value, expected=Outcome.COMPLETE.value,
                       remedy=messages.text("fleet.connection", failure.outcome.value, **values),
                       details=details)


def _identity(target: InventoryHost, hostname: Optional[str], facts: dict) -> HostIdentity:
    system = facts.get("system", {})
    os_value = system.get("os", {}).get("value")
    arch = system.get("arch", {}).get("value") or "?"
    os_info = OsInfo(os_value["name"], os_value["version"], os_value["build"], arch) \
        if os_value else None
    machine_id, smbios_uuid = machine_ids(facts)
    return HostIdentity(hostname=hostname or target.name, kind="workstation",
                        unit_id=target.unit_id, officer=target.officer,
                        address=target.endpoint.address, os=os_info, machine_id=machine_id,
                        smbios_uuid=smbios_uuid)


def _fleet_facts(target: InventoryHost, run: dict[str, Any],
                 failure: Optional[HostFailure]) -> dict[str, Any]:
    facts = {"inventory_hostname": target.name, "connection": target.connection,
             "port": target.endpoint.port, **run}
    if target.jump:
        facts["jump_host"] = f"{target.jump.address}:{target.jump.port}"
    if failure:
        facts["error"] = failure.message
        if failure.fingerprint:
            facts["host_key_fingerprint"] = failure.fingerprint
    return facts
