"""How much the collector takes at once: per key a token bucket (429), and a bound on the
requests waiting for the store (503). Both in memory, one set per app (never global)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

_MAX_BUCKETS = 10_000  # keys remembered; full buckets are forgotten first


@dataclass(frozen=True)
class ApiLimits:
    """``rate_per_key``: requests a second a key may keep up, ``burst_per_key`` at once (a
    probe emptying its outbox); ``store_workers`` threads with a connection each;
    ``store_waiting``: requests waiting for or in the store before the next gets 503."""

    rate_per_key: float = 20.0
    burst_per_key: int = 200
    store_workers: int = 4
    store_waiting: int = 64
    busy_retry_after: int = 2  # seconds, in the 503's Retry-After


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """A token bucket per key: ``rate`` tokens a second, at most ``burst``."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str) -> Optional[int]:
        """None and one token taken, or the whole seconds until a token is there."""
        now = self.clock()
        bucket = self._buckets.get(key) or self._new(key, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        return max(1, math.ceil((1 - bucket.tokens) / self.rate))

    def _new(self, key: str, now: float) -> _Bucket:
        if len(self._buckets) >= _MAX_BUCKETS:
            self._forget_full(now)
        bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        return bucket

    def _forget_full(self, now: float) -> None:
        full = [key for key, b in self._buckets.items()
                if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for key in full or list(self._buckets)[:len(self._buckets) // 2]:
            del self._buckets[key]


class StoreGate:
    """A bounded count of requests in the store's hands; ``try_enter`` never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.busy = 0

    def try_enter(self) -> bool:
        if self.busy >= self.limit:
            return False
        self.busy += 1
        return True

    def leave(self) -> None:
        self.busy -= 1
