"""The background loop the services share: do one step of work, then again at once if there is
more, else when kicked (after a commit, when the manual clock moves) or after an interval."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Kickable:
    """A wake-up signal for a loop: ``kick()`` from anywhere; ``kick_async`` for clock
    listeners, which are coroutines."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def kick(self) -> None:
        self._event.set()

    async def kick_async(self) -> None:
        self._event.set()

    async def run_forever(
        self, step: Callable[[], Awaitable[bool]], *, interval: float, what: str
    ) -> None:
        """Run ``step`` forever. It returns True when more work is waiting (run it again at
        once). An error is logged and the step retried after the wait."""
        while True:
            try:
                more = await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("%s failed, will retry: %r", what, exc)
                more = False
            if more:
                continue
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), interval)
            except TimeoutError:
                pass
