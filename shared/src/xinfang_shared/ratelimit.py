"""A token bucket per key (per address, per client): pure, with an injectable clock."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    """Token bucket per key: ``burst`` tokens, refilled at ``rate_per_s``."""

    _PRUNE_AT = 10_000

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate_per_s <= 0 or burst < 1:
            raise ValueError("rate_per_s must be > 0 and burst >= 1")
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated at)

    def _tokens(self, key: str, now: float) -> float:
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + max(0.0, now - updated) * self.rate)

    def try_acquire(self, key: str) -> float:
        """Take a token: 0.0 on success, else seconds until one is available (none taken)."""
        now = self.clock()
        tokens = self._tokens(key, now)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self._PRUNE_AT:
                self._prune(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget keys whose bucket has refilled: they behave exactly like new keys."""
        full = [k for k in self._buckets if self._tokens(k, now) >= self.burst]
        for k in full:
            del self._buckets[k]
