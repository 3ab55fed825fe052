"""The alert escalator: every few seconds (and at once when the manual clock moves), escalate
the alerts nobody acknowledged in time (and remind the top of the tree)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import IntegrityError
from xinfang_shared.loop import Kickable
from xinfang_shared.runtime import ServiceRuntime

from xinfang_notify.context import NotifyContext
from xinfang_notify.notifications import alerts

log = logging.getLogger(__name__)


class AlertEscalator(Kickable):
    """Every few seconds (and at once when the manual clock moves), escalate the alerts that
    nobody acknowledged in time."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        nc: NotifyContext,
        *,
        interval: float,
        publish: Callable[[list[dict[str, Any]]], None],
        on_deliveries: Callable[[], None],
    ) -> None:
        self.rt = runtime
        self.nc = nc
        self.interval = interval
        self._publish = publish
        self._on_deliveries = on_deliveries
        super().__init__()

    async def run(self) -> None:
        async def step() -> bool:
            await self.run_once()  # escalates level after level itself after a clock jump
            return False

        await self.run_forever(step, interval=self.interval, what="alert escalator")

    async def run_once(self) -> int:
        total = 0
        for _ in range(20):  # a clock jump of hours escalates level after level at once
            try:
                async with self.rt.sessions() as session, session.begin():
                    rows = await alerts.escalate_due(
                        session=session, nc=self.nc, now=self.rt.clock.now()
                    )
            except IntegrityError:
                # another replica (or run) escalated or reminded the same alert at the same
                # point first: the notification log's unique key refused our copy, our whole
                # step rolled back, and the next round sees what it did
                log.info("alert escalator: another run handled these alerts first")
                continue
            if not rows:
                break
            total += len(rows)
            self.rt.relay.wake()
            self._on_deliveries()
            self._publish(rows)
        return total
