"""A collected fact: its value and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Any, Callable, Optional

from ..core.model import Evidence

# Where the audit looks for the system tools it runs (fc-list, rpm): never the caller's PATH,
# which may name a folder a local user can write when the audit runs as root.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Fact:
    value: Any
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"value": self.value,
                "evidence": [{"source": e.source, "location": e.location, "value": e.value}
                             for e in self.evidence]}


def collect_timed(collectors: dict[str, Callable[[], Optional[Fact]]]
                  ) -> tuple[dict[str, Fact], dict[str, float], dict[str, str]]:
    """Run each collector; returns the facts, milliseconds per fact and the errors met.

    A fact that cannot be read is left out (its error kept), never guessed.
    """
    facts, durations, errors = {}, {}, {}
    for name, collector in collectors.items():
        started = time.perf_counter()
        try:
            fact = collector()
        except (OSError, ValueError, RuntimeError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"
            fact = None
        durations[name] = (time.perf_counter() - started) * 1000
        if fact is not None:
            facts[name] = fact
    return facts, durations, errors
