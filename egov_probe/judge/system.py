"""Machine basics judged against the policy's ``system`` section."""

from __future__ import annotations

import re
from typing import Callable, Optional

from ..core import messages
from ..core.model import CheckResult, Status
from ..core.clock import utc_now
from ..facts.base import Fact
from .policy import Policy
from .thresholds import expected_text, judge

# check id -> (fact name, policy key) for the numeric checks.
NUMERIC_CHECKS = {
    "system.ram": ("ram_mb", "ram_mb"),
    "system.disk_free": ("disk_free_gb", "disk_free_gb"),
    "system.cpu_cores": ("cpu_cores", "cpu_cores"),
    "system.uptime": ("uptime_days", "uptime_days"),
}
# check id -> (fact name, policy key) for values that must equal the policy's.
EQUALITY_CHECKS = {
    "system.utc_offset": ("utc_offset", "utc_offset"),
    "system.encoding": ("encoding", "encoding"),
}


def judge_system(facts: dict[str, Fact], policy: Policy,
                 durations: dict[str, float]) -> list[CheckResult]:
    rules = policy.section("system")
    results = []
    for check_id, (fact_name, key) in NUMERIC_CHECKS.items():
        if key in rules:
            results.append(_numeric(check_id, facts.get(fact_name), rules[key]))
    for check_id, (fact_name, key) in EQUALITY_CHECKS.items():
        if key in rules:
            results.append(_equality(check_id, facts.get(fact_name), rules[key]))
    if "vietnamese_fonts" in rules:
        results.append(_fonts(facts.get("vietnamese_fonts"), rules["vietnamese_fonts"]))
    windows = _windows_release(facts.get("os"), rules.get("windows_releases"))
    if windows is not None:
        results.append(windows)
    for result in results:
        fact_name = fact_of_check(result.id)
        result.duration_ms = round(durations.get(fact_name, 0.0), 3)
    return results


def fact_of_check(check_id: str) -> str:
    """The fact a system check judges."""
    pair = NUMERIC_CHECKS.get(check_id) or EQUALITY_CHECKS.get(check_id)
    if check_id == WINDOWS_CHECK:
        return "os"
    return pair[0] if pair else "vietnamese_fonts"


WINDOWS_CHECK = "system.windows_release"


def windows_release_entry(os_value: dict, releases: list[dict]) -> Optional[dict]:
    """The policy's entry for a Windows build: same build number, and the edition pattern
    (e.g. LTSC) matching the product name when the entry has one; those entries first."""
    build = str(os_value.get("build", "")).split(".")[0]
    if not build.isdigit():
        return None
    name = str(os_value.get("name", ""))
    matching = [r for r in releases if r["build"] == int(build)
                and re.search(r.get("edition", ""), name, re.IGNORECASE)]
    return max(matching, key=lambda r: bool(r.get("edition")), default=None)


def _windows_release(fact: Optional[Fact], releases: Optional[list],
                     today: Optional[str] = None) -> Optional[CheckResult]:
    """A Windows release past its end of support (ISO date ``today``, default the clock's)
    fails: no more security updates. Not a check on other systems."""
    if fact is None or releases is None or not re.search(r"\bWindows\b",
                                                          str(fact.value.get("name", ""))):
        return None
    value = fact.value
    observed = " ".join(str(v) for v in (value.get("name"), value.get("version"),
                                         value.get("build")) if v)
    entry = windows_release_entry(value, releases)
    today = today or utc_now().date().isoformat()
    if entry is None:
        status, key, expected = Status.WARN, "unknown", "một bản trong danh sách / a listed release"
    elif entry["end_of_support"] < today:
        status, key, expected = Status.FAIL, "remedy", f"hỗ trợ đến / supported until {entry['end_of_support']}"
    else:
        status, key, expected = Status.PASS, "", f"hỗ trợ đến / supported until {entry['end_of_support']}"
    remedy = messages.text(WINDOWS_CHECK, key, observed=observed,
                           release=entry["name"] if entry else observed,
                           end=entry["end_of_support"] if entry else "") if key else None
    return CheckResult(id=WINDOWS_CHECK, category="system", title=messages.text(WINDOWS_CHECK),
                       status=status, observed=observed, expected=expected,
                       evidence=list(fact.evidence), remedy=remedy,
                       details={"release": entry["name"]} if entry else {})


def _missing(check_id: str, fact_name: str) -> CheckResult:
    return CheckResult(id=check_id, category="system", title=messages.text(check_id),
                       status=Status.ERROR, observed=None,
                       remedy=messages.text("check.collect_error", "remedy", fact=fact_name,
                                            observed="không có dữ liệu / no data"))


def _numeric(check_id: str, fact: Optional[Fact], rule: dict) -> CheckResult:
    if fact is None:
        return _missing(check_id, NUMERIC_CHECKS[check_id][0])
    status, bound = judge(fact.value, rule)
    remedy = None
    if status is not Status.PASS:
        remedy = messages.text(check_id, "remedy", observed=fact.value, expected=bound)
    return CheckResult(id=check_id, category="system", title=messages.text(check_id),
                       status=status, observed=fact.value, expected=expected_text(rule),
                       evidence=list(fact.evidence), remedy=remedy)


def _equality(check_id: str, fact: Optional[Fact], expected: str,
              normalise: Callable[[str], str] = lambda v: v.replace("-", "").lower()) -> CheckResult:
    if fact is None:
        return _missing(check_id, EQUALITY_CHECKS[check_id][0])
    same = normalise(str(fact.value)) == normalise(expected)
    status = Status.PASS if same else Status.WARN
    remedy = None if same else messages.text(check_id, "remedy", observed=fact.value,
                                             expected=expected)
    return CheckResult(id=check_id, category="system", title=messages.text(check_id),
                       status=status, observed=fact.value, expected=expected,
                       evidence=list(fact.evidence), remedy=remedy)


def _fonts(fact: Optional[Fact], rule: dict) -> CheckResult:
    check_id = "system.vietnamese_fonts"
    families = fact.value if fact else None
    preferred = [f for f in rule.get("preferred", []) if families and f in families]
    expected = "≥ 1 " + ("/".join(rule.get("preferred", [])) or "Vietnamese Unicode font")
    if families is None:
        status, remedy = Status.WARN, messages.text(check_id, "unknown")
    elif families:
        status, remedy = Status.PASS, None
    else:
        status = Status.FAIL if rule.get("required", True) else Status.WARN
        remedy = messages.text(check_id, "remedy")
    return CheckResult(id=check_id, category="system", title=messages.text(check_id),
                       status=status, observed=families, expected=expected,
                       evidence=list(fact.evidence) if fact else [], remedy=remedy,
                       details={"preferred_present": preferred})
