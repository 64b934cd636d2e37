"""Judging a number against warn/fail thresholds from the policy."""

from __future__ import annotations

from typing import Optional

from ..core.model import Status


def judge(value: float, rule: dict) -> tuple[Status, Optional[float]]:
    """Status of ``value`` under ``rule`` and the bound it broke (None when it passes).

    ``rule`` keys: ``fail_below``, ``warn_below``, ``fail_above``, ``warn_above``; fail first.
    """
    for status, key, broken in ((Status.FAIL, "fail_below", lambda b: value < b),
                                (Status.FAIL, "fail_above", lambda b: value > b),
                                (Status.WARN, "warn_below", lambda b: value < b),
                                (Status.WARN, "warn_above", lambda b: value > b)):
        bound = rule.get(key)
        if bound is not None and broken(bound):
            return status, bound
    return Status.PASS, None


def expected_text(rule: dict) -> str:
    """How the policy's rule reads in a report, e.g. ">= 4096 (fail < 2048)"."""
    parts = []
    if "warn_below" in rule or "fail_below" in rule:
        parts.append(f">= {rule.get('warn_below', rule.get('fail_below'))}")
    if "warn_above" in rule or "fail_above" in rule:
        parts.append(f"<= {rule.get('warn_above', rule.get('fail_above'))}")
    return ", ".join(parts)
