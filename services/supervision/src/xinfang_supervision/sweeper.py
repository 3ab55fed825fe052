"""The deadline sweep: runs every ``sweep_interval_s``, at once when the clock moves (manual
mode) and when new deadlines arrive. Deadlines live in the database, so a restart loses nothing;
the unique (deadline, stage) notice row means a second replica never sends a notice twice.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import IntegrityError
from xinfang_shared.db import is_sqlite
from xinfang_shared.runtime import ServiceRuntime
from xinfang_shared.timeutil import local_date

from xinfang_supervision import service
from xinfang_supervision.config import SupervisionSettings

log = logging.getLogger(__name__)
SOURCE = "/xinfang/supervision"


class Sweeper:
    def __init__(self, runtime: ServiceRuntime, settings: SupervisionSettings) -> None:
        self._rt = runtime
        self._settings = settings
        self._kick = asyncio.Event()
        self.sweeps = 0
        self.last_examined = 0

    def kick(self) -> None:
        self._kick.set()

    async def kick_async(self) -> None:
        self._kick.set()

    async def sweep_once(self) -> int:
        """Sweep everything due now; returns the number of deadlines examined."""
        rt = self._rt
        total = 0
        while True:
            now = rt.clock.now()
            async with rt.sessions() as session, session.begin():
                n = await service.sweep_batch(
                    session=session,
                    today=local_date(now),
                    now=now,
                    source=SOURCE,
                    reminder_days=self._settings.reminder_days,
                    batch=self._settings.sweep_batch,
                    skip_locked=not is_sqlite(rt.engine),
                )
            total += n
            if n:
                rt.relay.wake()
            if n < self._settings.sweep_batch:
                break
        self.sweeps += 1
        self.last_examined = total
        return total

    async def run(self) -> None:
        while True:
            try:
                n = await self.sweep_once()
                if n:
                    log.info("sweep examined %d deadlines", n)
            except asyncio.CancelledError:
                raise
            except IntegrityError:
                log.info("another replica swept the same deadlines; retrying")
                continue
            except Exception as exc:
                log.warning("sweep failed, will retry: %s", exc)
            self._kick.clear()
            try:
                await asyncio.wait_for(self._kick.wait(), self._settings.sweep_interval_s)
            except TimeoutError:
                pass
