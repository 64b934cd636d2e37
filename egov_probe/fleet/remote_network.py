"""``egov-probe fleet --network``: the network and signature checks run on each Linux host.

Reachability is the unit's own (its DNS, routes, proxy and firewall), so the checks run on the
workstation, not on the controller. Over the SSH session the collector uses, one more command
starts the host's ``python3 -I -S`` with the bootstrap of ``fleet/probe_bundle.py``: it says
which Python it is, reads the probe's code from stdin and imports it in memory (nothing is
installed or written on the host, nothing left behind). The compiled bundle is built before
the hosts start and sent as soon as the command starts; the request that follows is the
host's effective policy (its CA file's content instead of the controller's path) and the
message catalogue. ``fleet/onhost.py`` runs there and answers with each section's facts and
checks, which join the host's report as if the local audit had run them. This runs on its own
channel of the session while the collector runs on another, so ``--network`` adds to a
host's time only what the network checks take beyond the collector.

Where that cannot be done, the report says so: one ``skipped`` check per section
("not checked") with the reason: no python3, a python3 older than 3.10, a Windows host, the
host's deadline reached.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from typing import Any, Optional

from ..audit.section import SectionResult
from ..core import messages
from ..core.model import CheckResult, Status, check_from_dict
from ..judge.policy import Policy
from .host import HostFailure
from .probe_bundle import (MAGIC, MIN_PYTHON, NO_PYTHON, RUN_PROBE, SECTIONS,
                           ProbeBundle)
from .ssh import SshSession


class HostSections:
    """The host's network sections, started at once on their own channel of the session, so
    that they run while the collector runs; :meth:`result` waits for them."""

    def __init__(self, session: SshSession, policy: Policy, probe: ProbeBundle) -> None:
        self._result: list[SectionResult] = []
        self._thread = threading.Thread(target=self._run, args=(session, policy, probe),
                                        name="egov-fleet-network", daemon=True)
        self._thread.start()

    def _run(self, session: SshSession, policy: Policy, probe: ProbeBundle) -> None:
        try:
            self._result = host_sections(session, policy, probe)
        except Exception as exc:  # noqa: BLE001 - the host keeps its report, without these
            self._result = not_checked(f"probe error: {type(exc).__name__}: {exc}")

    def result(self) -> list[SectionResult]:
        self._thread.join()
        return self._result


@dataclass
class _HostPython:
    """What the host's python3 said of itself (its first line), and why it cannot run the
    probe, if it cannot."""

    version: str = ""
    compiled: bool = False
    refused: Optional[str] = None


def host_sections(session: SshSession, policy: Policy, probe: ProbeBundle) -> list[SectionResult]:
    """The network and signature sections, run on the host (or "not checked", with why), in
    one python3 started once: it says its version, then gets the zip and the request."""
    python = _HostPython()

    def reply(first_line: str) -> Optional[bytes]:
        found = first_line.split()
        if found == NO_PYTHON.split():
            python.refused = NO_PYTHON
        elif len(found) != 2:
            python.refused = "python3 on the host did not answer"
        elif _version(found[1]) < MIN_PYTHON:
            python.refused = (f"python3 {found[1]} on the host is older than "
                              f"{'.'.join(map(str, MIN_PYTHON))}")
        else:
            python.version = found[1]
            python.compiled = found[0] == MAGIC
            return probe.rest(policy, python.compiled, sent_early=early is not None)
        return None

    early = probe.early()
    try:
        _first, text = session.converse(RUN_PROBE, reply, early)
    except HostFailure as exc:
        return not_checked(f"the session broke during the network checks: {exc.message}")
    if python.refused:
        return not_checked(python.refused)
    try:
        answer = json.loads(text)
    except json.JSONDecodeError:
        return not_checked("python3 on the host could not run the probe"
                           + (f": {text.strip()[-300:]}" if text.strip() else ""))
    on_host = {"python": answer.get("python", python.version), "seconds": answer.get("seconds"),
               "compiled": python.compiled}
    return [_section(item, on_host) for item in answer.get("sections", [])]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def _section(item: dict[str, Any], on_host: dict[str, Any]) -> SectionResult:
    name = item.get("name", "network")
    if "error" in item:
        return not_checked(f"probe error on the host: {item['error']}", (name,))[0]
    facts = item.get("facts")
    if isinstance(facts, dict):
        facts = {**facts, "run_on_host": on_host}
    return SectionResult(name, facts, [check_from_dict(c) for c in item.get("checks", [])])


def not_checked(reason: str, names: tuple[str, ...] = SECTIONS) -> list[SectionResult]:
    """One ``skipped`` check per section, saying why it was not checked on the host."""
    return [SectionResult(name, {"not_checked": reason}, [CheckResult(
        id=f"{name}.not_checked", category=name,
        title=messages.text(f"fleet.not_checked.{name}"), status=Status.SKIPPED,
        observed=reason, expected=messages.text("fleet.not_checked", "expected").en,
        remedy=messages.text("fleet.not_checked", "remedy", reason=reason),
        details={"reason": reason})]) for name in names]

