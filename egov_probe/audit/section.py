"""What one section of the audit returns, and what a section is (a function of the policy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..core.model import CheckResult
    from ..judge.effective_policy import Policy


@dataclass
class SectionResult:
    """What one section of the audit found (its facts, for the report) and judged."""

    name: str
    facts: Any
    checks: list[CheckResult] = field(default_factory=list)


# A section collects and judges one area under the policy.
Section = Callable[["Policy"], SectionResult]
