"""Repeats (case.linked): the original's repeat count (3+ makes it a 积案), and a wave of
repeats within a few days raises ``alert.repeat_wave`` (once per wave). Never commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import CaseLinked, RepeatWaveAlert

from xinfang_supervision.alerts import store
from xinfang_supervision.cases import store as cases
from xinfang_supervision.context import SupervisionContext


async def on_linked(
    *, uow: UnitOfWork, sc: SupervisionContext, linked: CaseLinked, now: datetime
) -> None:
    session = uow.session
    original = await cases.set_repeat_count(
        session, linked.linked_case_id, linked.repeat_count, now
    )
    if original is not None and linked.repeat_count >= 3:
        await cases.mark_backlog(
            uow, linked.linked_case_id, f"重复信访{linked.repeat_count}次", now
        )
    if linked.match != "重复信访":
        return  # 一信多投 is one letter sent to several offices, not a wave
    holder = original.unit_code if original is not None else linked.holder_code
    if not sc.owns(holder):
        return  # the level that runs the case counts its waves
    await store.add_arrival(
        session,
        item_case_id=linked.case_id,
        case_id=linked.linked_case_id,
        item_case_number=linked.case_number,
        at=linked.linked_at,
    )
    since = linked.linked_at - timedelta(days=sc.repeat_wave_days)
    arrivals = await store.arrivals_since(session, linked.linked_case_id, since)
    if arrivals < sc.repeat_wave_threshold:
        return
    window = now - timedelta(days=sc.repeat_wave_days)
    if await store.wave_raised_since(session, linked.linked_case_id, window):
        return  # this wave was already reported
    await store.add_wave(session, case_id=linked.linked_case_id, arrivals=arrivals, at=now)
    cases.emit(
        uow,
        RepeatWaveAlert(
            case_id=linked.linked_case_id,
            case_number=linked.linked_case_number,
            arrivals=arrivals,
            window_days=sc.repeat_wave_days,
            latest_case_number=linked.case_number,
            holder_code=holder,
            supervising_code=original.supervising_code if original is not None else None,
            raised_at=now,
        ),
        now,
    )
