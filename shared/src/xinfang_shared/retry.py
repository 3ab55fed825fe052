"""Try again after a pause: the one retry loop of the platform.

:func:`retry` calls an async function until it returns. After each failure (any ``Exception``;
cancellation is never caught) it asks ``wait`` how long to pause before the next try, or
whether to give up: ``wait(error, failures)`` returns seconds, or ``None`` to re-raise the
error. ``before_sleep`` runs before each pause (log, drop a broken connection).

:class:`Backoff` is the usual ``wait``: ``first``, then twice as long each time up to ``cap``;
``reset()`` starts again from ``first`` (a follower that connected again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

Wait = Callable[[Exception, int], float | None]
"""``(error, failures so far)`` -> seconds to pause before the next try, or None: give up."""

BeforeSleep = Callable[[Exception, float], Awaitable[None] | None]


@dataclass
class Backoff:
    """Exponential delays: ``first``, ``first * factor``, ... never above ``cap``."""

    first: float
    cap: float
    factor: float = 2.0
    _next: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._next = self.first

    def reset(self) -> None:
        self._next = self.first

    def next_delay(self) -> float:
        delay = self._next
        self._next = min(delay * self.factor, self.cap)
        return delay

    def __call__(self, error: Exception, failures: int) -> float:
        return self.next_delay()


def pause(delay: float) -> Wait:
    """The same pause after every failure, for ever."""
    return lambda error, failures: delay


def linear(step: float, *, attempts: int) -> Wait:
    """``step``, ``2 * step``, ... and give up once ``attempts`` tries have failed."""
    return lambda error, failures: None if failures >= attempts else step * failures


async def retry(
    fn: Callable[[], Awaitable[T]],
    *,
    wait: Wait,
    before_sleep: BeforeSleep | None = None,
) -> T:
    """``await fn()`` until it returns; see the module docstring."""
    failures = 0
    while True:
        try:
            return await fn()
        except Exception as error:
            failures += 1
            delay = wait(error, failures)
            if delay is None:
                raise
            if before_sleep is not None:
                pending = before_sleep(error, delay)
                if pending is not None:
                    await pending
            await asyncio.sleep(delay)
