"""The deadline sweep: runs every ``sweep_interval_s``, at once when the clock moves (manual
mode) and when new deadlines arrive. Deadlines live in the database, so a restart loses nothing;
the unique (deadline, stage) notice row means a second replica never sends a notice twice, and
on PostgreSQL replicas split the due rows between them (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

from sqlalchemy.exc import IntegrityError
from xinfang_shared.db import UnitOfWork, is_sqlite
from xinfang_shared.loop import Kickable
from xinfang_shared.runtime import ServiceRuntime
from xinfang_shared.timeutil import local_date

from xinfang_supervision.calendar import service as calendar
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.sweep import service

log = logging.getLogger(__name__)


class Sweeper(Kickable):
    def __init__(self, settings: SupervisionSettings, sc: SupervisionContext) -> None:
        self._runtime: ServiceRuntime | None = None
        self._settings = settings
        self._sc = sc
        super().__init__()
        self._lock = asyncio.Lock()
        self.sweeps = 0
        self.last_examined = 0
        self._backlog_checked: date | None = None
        self._calendar_warned: date | None = None

    def bind(self, runtime: ServiceRuntime) -> None:
        """Give the sweeper the service's database and clock (once the runtime exists: the
        runtime's consumers kick the sweeper when new deadlines arrive)."""
        self._runtime = runtime

    @property
    def _rt(self) -> ServiceRuntime:
        assert self._runtime is not None, "bind() the sweeper before it runs"
        return self._runtime

    async def refresh_calendar(self) -> None:
        """Put the holiday notices in the database in force (another replica may have loaded
        one) and warn when a year ahead has none (readyz, and the log once a day)."""
        rt = self._rt
        async with rt.sessions() as session, session.begin():
            self._sc.calendar = await calendar.calendar_from_db(session=session)
        today = local_date(rt.clock.now())
        warnings = calendar.calendar_warnings(self._sc.calendar, today)
        if not warnings:
            rt.warnings.pop("holiday_calendar", None)
            return
        rt.warnings["holiday_calendar"] = [w.model_dump(mode="json") for w in warnings]
        if self._calendar_warned != today:
            self._calendar_warned = today
            for w in warnings:
                log.warning("%s (%s)", w.message, w.message_en)

    async def sweep_once(self) -> int:
        """Act on everything due now (a deadline may take several steps after a clock jump);
        returns the number of deadline rows examined."""
        rt = self._rt
        total = 0
        async with self._lock:
            await self.refresh_calendar()
            for _ in range(100):
                now = rt.clock.now()
                try:
                    async with rt.sessions() as session, session.begin():
                        uow = UnitOfWork(session)
                        n = await service.sweep_batch(
                            uow=uow,
                            sc=self._sc,
                            today=local_date(now),
                            now=now,
                            batch=self._settings.sweep_batch,
                            skip_locked=not is_sqlite(rt.engine),
                        )
                        await uow.flush()
                except IntegrityError:
                    # another replica acted on the same deadlines first (SQLite has no SKIP
                    # LOCKED): this batch is rolled back whole, nothing was sent twice; look again
                    log.info("another replica swept the same deadlines; looking again")
                    continue
                total += n
                if n:
                    rt.relay.wake()
                else:
                    break
            async with rt.sessions() as session, session.begin():
                uow = UnitOfWork(session)
                marked = await service.mark_old_cases_backlog(
                    uow=uow, sc=self._sc, now=rt.clock.now()
                )
                await uow.flush()  # the case.backlog events, with the rows
            if marked:
                rt.relay.wake()
        self.sweeps += 1
        self.last_examined = total
        return total

    async def run(self) -> None:
        async def step() -> bool:
            n = await self.sweep_once()
            if n:
                log.info("sweep examined %d deadlines", n)
            return False  # sweep_once already worked through everything due

        await self.run_forever(step, interval=self._settings.sweep_interval_s, what="sweep")
