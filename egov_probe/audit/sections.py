"""The audit's sections: each collects one area's facts and judges them under the policy."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..facts.base import Fact, collect_timed
from ..facts.browser_types import BrowserInstall
from ..facts.system import SYSTEM_COLLECTORS
from ..judge.browsers import judge_browsers
from ..judge.policy import Policy
from ..judge.system import fact_of_check, judge_system
from .network_sections import network_section, signature_section
from .section import Section, SectionResult


def system_section(policy: Policy,
                   collectors: dict[str, Callable[[], Optional[Fact]]] = SYSTEM_COLLECTORS
                   ) -> SectionResult:
    """Machine basics: the local collectors by default, or others reading the same facts
    (the fleet's, parsing what a remote host printed)."""
    facts, durations, errors = collect_timed(collectors)
    checks = judge_system(facts, policy, durations)
    for check in checks:
        fact_error = errors.get(fact_of_check(check.id))
        if fact_error:
            check.details["collect_error"] = fact_error
    data = {name: fact.as_dict() for name, fact in facts.items()}
    if errors:
        data["_errors"] = errors
    return SectionResult("system", data, checks)


@dataclass
class BrowserScan:
    """Browsers found, the raw facts for the report, and user profiles that could not be read."""

    browsers: list[BrowserInstall]
    facts: dict
    unreadable_profiles: list[str] = field(default_factory=list)


def local_browsers() -> BrowserScan:
    if sys.platform == "win32":
        from ..facts.browsers_windows import scan_windows_browsers
        from ..facts.winsource import LiveWindowsSource
        scan = scan_windows_browsers(LiveWindowsSource())
        return BrowserScan(list(scan.browsers), scan.as_fact(),
                           [f"{p.user or p.sid}: {p.reason}" for p in scan.unreadable_profiles])
    from ..facts.browsers_linux import collect_linux_browsers
    browsers = collect_linux_browsers()
    return BrowserScan(browsers, {"browsers": [b.as_fact() for b in browsers]})


def browser_section(policy: Policy,
                    collect: Callable[[], BrowserScan] = local_browsers) -> SectionResult:
    started = time.perf_counter()
    scan = collect()
    duration_ms = (time.perf_counter() - started) * 1000
    return SectionResult("browsers", scan.facts,
                         judge_browsers(scan.browsers, policy, duration_ms,
                                        scan.unreadable_profiles))


def default_sections() -> list[Section]:
    return [system_section, browser_section]


def mailbox_section(login: Any) -> Section:
    """The official mailbox for ``login`` (a ``facts.mailbox.MailboxLogin``, or None)."""
    def section(policy: Policy) -> SectionResult:
        from ..facts.mailbox import collect_mailbox
        from ..judge.mailbox import judge_mailbox

        rules = policy.section("mailbox")
        probes = collect_mailbox(rules, login, policy.section("network").get("ca_file")) \
            if login is not None and login.secret is not None else []
        return SectionResult("mailbox", [p.as_dict() for p in probes],
                             judge_mailbox(probes, rules, login))
    return section


def audit_sections(*, network: bool = False, mailbox: Any = None) -> list[Section]:
    """The local sections, then network/clock/signature (``network``) and the mailbox."""
    sections = default_sections()
    if network:
        sections += [network_section, signature_section]
    if mailbox is not None:
        sections.append(mailbox_section(mailbox))
    return sections
