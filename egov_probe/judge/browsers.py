"""Installed browsers judged against the policy's ``browsers`` section."""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from ..core import messages
from ..core.model import CheckResult, Status
from ..core.versions import at_least, version_key
from ..facts.browser_types import BrowserInstall
from .policy import Policy


def judge_browsers(browsers: list[BrowserInstall], policy: Policy, duration_ms: float,
                   unreadable_profiles: Sequence[str] = ()) -> list[CheckResult]:
    """One check per browser, one for "enough supported browsers", one per unread profile set."""
    results = [_judge_one(b, policy.browser_rule(b.browser)) for b in browsers]
    _tell_apart(results, browsers)
    compliant = sum(1 for r in results if r.status is Status.PASS)
    required = policy.section("browsers").get("require_supported", 1)
    ok = compliant >= required
    results.append(CheckResult(
        id="browser.supported_available", category="browser",
        title=messages.text("browser.supported_available"),
        status=Status.PASS if ok else Status.FAIL, observed=compliant, expected=f">= {required}",
        remedy=None if ok else messages.text("browser.supported_available", "remedy",
                                             observed=compliant, expected=required),
        details={"installed": [f"{b.name} {b.version} ({b.scope})" for b in browsers]}))
    if unreadable_profiles:
        results.append(_unreadable(unreadable_profiles))
    for result in results:
        result.duration_ms = round(duration_ms, 3)
    return results


def _unreadable(profiles: Sequence[str]) -> CheckResult:
    """Profiles whose registry could not be read: their per-user browsers are unknown."""
    return CheckResult(
        id="browser.profiles_readable", category="browser",
        title=messages.text("browser.profiles_readable"), status=Status.WARN,
        observed=list(profiles), expected="mọi hồ sơ người dùng đọc được / every profile read",
        remedy=messages.text("browser.profiles_readable", "remedy", observed=len(profiles)))


def _tell_apart(results: list[CheckResult], browsers: list[BrowserInstall]) -> None:
    """Two installs of one browser in one scope (a user's ``~/firefox`` and
    ``~/.local/share/firefox``) get ids that also name their path: one id per check."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.id] = counts.get(result.id, 0) + 1
    for result, browser in zip(results, browsers):
        if counts[result.id] > 1:
            result.id = f"{result.id}.{slug(browser.path or '')}"


def check_id(browser: BrowserInstall) -> str:
    """Stable per host: ``browser.<id>.machine`` or ``browser.<id>.user-<account>``."""
    return f"browser.{browser.browser}.{slug(browser.scope)}"


def slug(text: str) -> str:
    """ASCII, lower case, ``-`` for anything else ("user:Nguyễn Hà" -> "user-nguyen-ha")."""
    ascii_text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-") or "unknown"


def _judge_one(browser: BrowserInstall, rule: dict) -> CheckResult:
    values = {"browser": browser.name, "scope": browser.scope, "observed": browser.version,
              "path": browser.path or "?"}
    common = {"id": check_id(browser), "category": "browser",
              "observed": browser.version, "evidence": list(browser.evidence),
              "details": {"browser": browser.browser, "scope": browser.scope,
                          "path": browser.path, "arch": browser.arch}}
    if not rule.get("supported", False):
        return CheckResult(**common, title=messages.text("browser.unsupported", **values),
                           status=Status.WARN, expected="không hỗ trợ / not supported",
                           remedy=messages.text("browser.unsupported", "remedy", **values))
    minimum = rule.get("min_version", "0")
    if not version_key(browser.version):
        return CheckResult(**common, title=messages.text("browser.version", **values),
                           status=Status.WARN, expected=f">= {minimum}",
                           remedy=messages.text("browser.version_unknown", "remedy", **values))
    ok = at_least(browser.version, minimum)
    return CheckResult(**common, title=messages.text("browser.version", **values),
                       status=Status.PASS if ok else Status.FAIL, expected=f">= {minimum}",
                       remedy=None if ok else messages.text("browser.version", "remedy",
                                                            expected=minimum, **values))
