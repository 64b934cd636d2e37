"""The local audit: run the sections on this machine and build one report."""

from __future__ import annotations

import socket
import uuid
from typing import Optional

from .. import __version__
from ..core.clock import local_offset_text, utc_now, utc_text
from ..core.model import HostIdentity, OsInfo, PolicyRef, Report
from ..core.units import Unit
from ..facts.system import machine
from ..judge.policy import Policy
from .sections import Section, default_sections


def run_audit(policy: Policy, *, unit: Optional[Unit] = None, officer: Optional[str] = None,
              sections: Optional[list[Section]] = None, transport: str = "local") -> Report:
    """Audit this machine: every section in turn, one report."""
    started = utc_now()
    results = [section(policy) for section in (sections or default_sections())]
    finished = utc_now()
    facts = {result.name: result.facts for result in results}
    machine_id, smbios_uuid = machine_ids(facts)
    return Report(
        report_id=uuid.uuid4().hex,
        host=HostIdentity(hostname=socket.gethostname(), kind="workstation",
                          unit_id=unit.unit_id if unit else None, officer=officer,
                          os=_os_info(facts), machine_id=machine_id, smbios_uuid=smbios_uuid),
        policy=PolicyRef(id=policy.policy_id, sha256=policy.sha256, path=policy.path),
        started_at=utc_text(started), finished_at=utc_text(finished),
        utc_offset=local_offset_text(started), transport=transport,
        probe_version=__version__, facts=facts,
        checks=[check for result in results for check in result.checks],
    )


def machine_ids(facts: dict) -> tuple[Optional[str], Optional[str]]:
    """The machine id and SMBIOS UUID the system section read (None where it could not)."""
    value = (facts.get("system", {}).get("machine_identity") or {}).get("value") or {}
    return value.get("machine_id"), value.get("smbios_uuid")


def _os_info(facts: dict) -> Optional[OsInfo]:
    os_fact = facts.get("system", {}).get("os")
    if not os_fact:
        return None
    value = os_fact["value"]
    return OsInfo(name=value["name"], version=value["version"], build=value["build"],
                  arch=machine())
