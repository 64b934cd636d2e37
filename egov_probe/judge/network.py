"""Network endpoints, IPv6 and clock skew judged against the policy's ``network`` section.

Each endpoint gives one result: the first failing step is named (``details.failed_step``) with
a diagnosis sentence from ``data/messages_network.yml`` as the remedy.
"""

from __future__ import annotations

import statistics
from typing import Any, Mapping, Optional

from ..core import messages
from ..core.model import CheckResult, Evidence, Status, Text
from ..facts.net_types import ProbeResult, ServiceUrl, Step
from ..facts.network import NetworkFacts
from .thresholds import expected_text, judge

ENDPOINT_KEY = "network.endpoint"
_TLS_ORDER = {"SSLv3": 0, "TLSv1": 1, "TLSv1.1": 2, "TLSv1.2": 3, "TLSv1.3": 4}


def step_group(step: str) -> str:
    """``tcp_ipv4`` and ``tcp_ipv6`` share their diagnoses as ``tcp``."""
    return "tcp" if step.startswith("tcp_") else step


def diagnosis(step: str, code: str, **values: Any):
    """The diagnosis sentence for a failing step (vi + en)."""
    parts = messages.catalogue()[ENDPOINT_KEY]
    for part in (f"{step_group(step)}_{code}", code):
        if part in parts:
            return messages.text(ENDPOINT_KEY, part, **values)
    return messages.text(ENDPOINT_KEY, "unknown", step=step, code=code, **values)


def blocking_failure(result: ProbeResult) -> Optional[Step]:
    """The first failed step, not counting one IP family's TCP when the other one connected."""
    connected = any(s.ok for s in result.steps if s.step.startswith("tcp_"))
    return next((s for s in result.steps if s.ok is False
                 and not (connected and s.step.startswith("tcp_"))), None)


def judge_network(facts: NetworkFacts, rules: Mapping) -> list[CheckResult]:
    """One result per endpoint, then IPv6 over all of them, then the clock."""
    by_id = {e["id"]: e for e in rules.get("endpoints", [])}
    checks = [judge_endpoint(r, by_id[r.endpoint_id], rules) for r in facts.endpoints]
    if facts.endpoints:
        checks.append(judge_ipv6(facts.endpoints, rules))
    checks.append(judge_clock(facts.endpoints, facts.ntp, rules))
    return checks


def judge_endpoint(result: ProbeResult, endpoint: Mapping, rules: Mapping, *,
                   category: str = "network", check_id: Optional[str] = None,
                   title_key: str = ENDPOINT_KEY, any_status: bool = False) -> CheckResult:
    """One endpoint's result: pass, or the first problem with its step and diagnosis."""
    values = _values(result, endpoint, rules)
    problem = _problem(result, endpoint, rules, any_status)
    check = CheckResult(
        id=check_id or f"network.{endpoint['id']}", category=category,
        title=endpoint_title(title_key, endpoint), status=Status.PASS,
        observed=_observed(result, problem), expected=_expected(endpoint, rules, any_status),
        duration_ms=round(sum(s.ms for s in result.steps), 3),
        evidence=[Evidence("network", result.url, result.route)],
        details={"url": result.url, "route": result.route,
                 "steps": [s.as_dict() for s in result.steps]})
    if problem:
        step, code, status = problem
        check.status = status
        check.details.update(failed_step=step, error=code)
        failed = result.step(step)
        values.update(failed.data if failed else {}, message=(failed and failed.message) or "")
        check.remedy = diagnosis(*_diagnosis_key(result, step, code), **values)
    return check


def _diagnosis_key(result: ProbeResult, step: str, code: str) -> tuple[str, str]:
    """Through a proxy, failing to reach the proxy itself has its own diagnosis."""
    if result.route.startswith("proxy") and step_group(step) in ("dns", "tcp"):
        return "proxy", "unreachable"
    return step, code


def endpoint_title(key: str, endpoint: Mapping) -> Text:
    """The title of ``key`` with the endpoint's name in each language."""
    names = endpoint.get("name") or {}
    vi_name = names.get("vi") or endpoint["id"]
    return Text(vi=messages.text(key, name=vi_name).vi,
                en=messages.text(key, name=names.get("en") or vi_name).en)


def _problem(result: ProbeResult, endpoint: Mapping, rules: Mapping, any_status: bool
             ) -> Optional[tuple[str, str, Status]]:
    blocking = Status.FAIL if endpoint.get("required", True) else Status.WARN
    failed = blocking_failure(result)
    if failed is not None:
        return failed.step, failed.error or "unknown", blocking
    tls = result.step("tls")
    if tls is not None and tls.ok:
        minimum = str(rules.get("tls_min_version", "1.2"))
        if _TLS_ORDER.get(tls.data.get("protocol", ""), 0) < _TLS_ORDER[f"TLSv{minimum}"]:
            return "tls", "version_low", blocking
        if tls.data.get("days_left", 10**6) < rules.get("cert_expiry_warn_days", 30):
            return "tls", "cert_expiring", Status.WARN
    http = result.step("http")
    if http is not None and http.ok and not any_status and not _status_ok(
            http.data["http_status"], endpoint):
        return "http", "http_status", blocking
    return None


def _status_ok(status: int, endpoint: Mapping) -> bool:
    wanted = endpoint.get("expect_status")
    return status in wanted if wanted else status < 400


def _values(result: ProbeResult, endpoint: Mapping, rules: Mapping) -> dict:
    """Everything a diagnosis sentence may name."""
    target = ServiceUrl.from_url(result.url)
    values: dict[str, Any] = {"host": target.host, "port": target.port, "url": result.url,
                              "name": (endpoint.get("name") or {}).get("vi") or endpoint["id"],
                              "minimum": rules.get("tls_min_version", "1.2"),
                              "expected": _status_text(endpoint), "proxy": result.route}
    for step in result.steps:
        values.update({k: v for k, v in step.data.items() if isinstance(v, (str, int, float))})
        if step.message:
            values["message"] = step.message
    tls = result.step("tls")
    if tls is not None:
        values["protocol"] = tls.data.get("protocol") or tls.data.get("server_protocol") or "?"
        values["days"] = tls.data.get("days_left", "?")
    return values


def _status_text(endpoint: Mapping) -> str:
    wanted = endpoint.get("expect_status")
    return "/".join(map(str, wanted)) if wanted else "< 400"


def _expected(endpoint: Mapping, rules: Mapping, any_status: bool) -> str:
    target = ServiceUrl.from_url(endpoint["url"])
    steps = ["DNS", "TCP"]
    if target.uses_tls:
        steps.append(f"TLS ≥ {rules.get('tls_min_version', '1.2')}")
    if target.uses_http:
        steps.append("HTTP" + ("" if any_status else f" {_status_text(endpoint)}"))
    return " → ".join(steps)


def _observed(result: ProbeResult, problem: Optional[tuple[str, str, Status]]) -> str:
    if problem:
        return f"{problem[0]}: {problem[1]}"
    parts = []
    tls, http = result.step("tls"), result.step("http")
    if tls is not None and tls.ok:
        parts.append(str(tls.data.get("protocol")))
    if http is not None and http.ok:
        parts.append(f"HTTP {http.data['http_status']}")
    parts.append(f"{round(sum(s.ms for s in result.steps))} ms")
    return ", ".join(parts)


def judge_ipv6(results: list[ProbeResult], rules: Mapping) -> CheckResult:
    """Whether the endpoints that answered over TCP also answered over IPv6."""
    reached = [r for r in results if any(s.ok for s in r.steps if s.step.startswith("tcp_"))]
    missing = [f"{r.endpoint_id}: {_ipv6_problem(r)}" for r in reached
               if not (r.step("tcp_ipv6") and r.step("tcp_ipv6").ok)]
    check = CheckResult(id="network.ipv6", category="network",
                        title=messages.text("network.ipv6"), status=Status.PASS,
                        observed=missing or f"{len(reached)}/{len(reached)}",
                        expected="IPv6: " + ("required" if rules.get("ipv6_required")
                                             else "recommended"))
    if not reached:
        check.status = Status.SKIPPED
    elif missing:
        check.status = Status.FAIL if rules.get("ipv6_required") else Status.WARN
        check.remedy = messages.text("network.ipv6", "remedy", observed="; ".join(missing))
    return check


def _ipv6_problem(result: ProbeResult) -> str:
    step = result.step("tcp_ipv6")
    if step is None or step.ok is None:
        return "no AAAA"
    return step.error or "?"


def judge_clock(results: list[ProbeResult], ntp: list[Step], rules: Mapping) -> CheckResult:
    """Clock skew from NTP when a server answered, else from the servers' HTTP Date headers."""
    rule = rules.get("clock_skew_s", {"warn_above": 60, "fail_above": 300})
    ntp_offsets = [s.data["offset_s"] for s in ntp if s.ok]
    http_skews = [s.data["skew_s"] for r in results for s in r.steps
                  if s.step == "http" and "skew_s" in s.data]
    source, samples = ("NTP", ntp_offsets) if ntp_offsets else ("HTTP Date", http_skews)
    check = CheckResult(id="clock.skew", category="clock", title=messages.text("clock.skew"),
                        status=Status.SKIPPED, expected=expected_text(rule),
                        details={"source": source if samples else None, "ntp": [
                            s.as_dict() for s in ntp], "http_date_skews_s": http_skews})
    if not samples:
        check.remedy = messages.text("clock.skew", "unknown")
        return check
    skew = round(statistics.median(samples), 1)
    check.observed = skew
    check.status, _bound = judge(abs(skew), rule)
    if check.status is not Status.PASS:
        check.remedy = messages.text("clock.skew", "remedy", observed=skew, source=source)
    return check
