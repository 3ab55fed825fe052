"""A token bucket per key (per account, per address): pure, with an injectable clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


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


def client_key(
    *, username: str | None, service: bool = False, client_id: str | None, address: str | None
) -> str:
    """Whom a rate limit counts. A person: their account (the token names it; a header the
    client sends could be changed at will for a fresh bucket). A service of the deployment
    (trusted, it holds the deployment's secret) relaying for many desks: each desk it names in
    ``X-Client-Id``. Nobody logged in: the client's address."""
    if username and service:
        return f"service:{username}:{client_id or ''}"
    if username:
        return f"user:{username}"
    return f"addr:{address or 'unknown'}"


def request_client_key(
    request: Any, *, username: str | None, service: bool = False, client_id: str | None = None
) -> str:
    """:func:`client_key` of a Starlette request."""
    client = getattr(request, "client", None)
    return client_key(
        username=username,
        service=service,
        client_id=client_id,
        address=client.host if client else None,
    )
