"""When to try again: exponential backoff with full jitter, and the server's ``Retry-After``.

Full jitter (a random wait between 0 and ``min(cap, base * 2**attempt)``) spreads the retries
of the 72 communes' probes after an outage instead of having them knock together. The random
source, the sleep and the clock are given, so tests never wait.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

BASE_S, CAP_S = 1.0, 300.0


@dataclass
class Backoff:
    """Delays for attempt 0, 1, 2…: ``random() * min(cap, base * 2**attempt)``."""

    base: float = BASE_S
    cap: float = CAP_S
    random: Callable[[], float] = field(default=random.random, repr=False)

    def ceiling(self, attempt: int) -> float:
        if attempt >= 64:  # 2**64 s is past any cap
            return self.cap
        return min(self.cap, self.base * (2 ** max(0, attempt)))

    def delay(self, attempt: int) -> float:
        return self.random() * self.ceiling(attempt)

    def wait(self, attempt: int, retry_after: Optional[float] = None) -> float:
        """The wait before the next try: at least ``retry_after`` when the server gave one."""
        if retry_after is not None:
            return max(retry_after, 0.0)
        return self.delay(attempt)


@dataclass(frozen=True)
class Timing:
    """The clock (monotonic seconds), the wall clock (for HTTP dates) and the sleep."""

    monotonic: Callable[[], float] = time.monotonic
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    sleep: Callable[[float], None] = time.sleep


def parse_retry_after(value: Optional[str], now: dt.datetime) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header: a number of seconds or an HTTP date
    (RFC 9110); None when absent or unreadable. Never negative; at most a day."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(min(int(text), 86400))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return min(max((when - now).total_seconds(), 0.0), 86400.0)
