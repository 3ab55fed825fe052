"""Supervision service functions (the caller owns the transaction)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import add_to_outbox
from xinfang_shared.events import CaseRouted, DeadlineOverdue, DeadlineReminder, new_event
from xinfang_shared.timeutil import local_date

from xinfang_supervision.deadlines import NATIONAL_DEFAULT, due_date, first_check, next_notice
from xinfang_supervision.models import deadlines, notices, outbox


async def open_deadlines(
    *, session: AsyncSession, routed: CaseRouted, now: datetime, reminder_days: tuple[int, ...]
) -> int:
    """Start the statutory clock for a case that reached its handling unit. Re-routing to
    another unit moves the open deadlines to it (the dates stay: the law counts from receipt)."""
    start = local_date(routed.routed_at)
    created = 0
    for rule in NATIONAL_DEFAULT:
        existing = (
            await session.execute(
                select(deadlines.c.id).where(
                    deadlines.c.case_id == routed.case_id, deadlines.c.kind == rule.kind
                )
            )
        ).first()
        if existing is not None:
            await session.execute(
                update(deadlines)
                .where(deadlines.c.id == existing.id)
                .values(unit_code=routed.to_unit_code, unit_name=routed.to_unit_name)
            )
            continue
        due = due_date(start, rule.days)
        await session.execute(
            insert(deadlines).values(
                id=str(uuid.uuid4()),
                case_id=routed.case_id,
                case_number=routed.case_number,
                kind=rule.kind,
                label=rule.label,
                basis=rule.basis,
                unit_code=routed.to_unit_code,
                unit_name=routed.to_unit_name,
                start_date=start,
                due_date=due,
                status="open",
                stage_done=-1,
                next_check=first_check(due, reminder_days),
                created_at=now,
            )
        )
        created += 1
    return created


async def sweep_batch(
    *,
    session: AsyncSession,
    today: date,
    now: datetime,
    source: str,
    reminder_days: tuple[int, ...],
    batch: int,
    skip_locked: bool,
) -> int:
    """Emit what is due today for up to ``batch`` deadlines; returns how many were examined."""
    q = (
        select(deadlines)
        .where(deadlines.c.status == "open", deadlines.c.next_check <= today)
        .order_by(deadlines.c.next_check)
        .limit(batch)
    )
    if skip_locked:
        q = q.with_for_update(skip_locked=True)
    rows = (await session.execute(q)).all()
    for d in rows:
        notice, next_check = next_notice(d.due_date, today, reminder_days, d.stage_done)
        if notice is not None:
            common: dict[str, Any] = {
                "case_id": d.case_id,
                "case_number": d.case_number,
                "deadline_id": d.id,
                "deadline_kind": d.kind,
                "deadline_label": d.label,
                "unit_code": d.unit_code,
                "unit_name": d.unit_name,
                "due_date": d.due_date,
                "days_left": (d.due_date - today).days,
            }
            data: DeadlineReminder | DeadlineOverdue
            if notice.kind == "reminder":
                assert notice.days_before is not None
                data = DeadlineReminder(days_before=notice.days_before, **common)
            else:
                data = DeadlineOverdue(days_overdue=(today - d.due_date).days, **common)
            envelope = new_event(data=data, source=source, time=now)
            await session.execute(
                insert(notices).values(
                    deadline_id=d.id,
                    stage=notice.stage,
                    kind=notice.kind,
                    event_id=envelope.id,
                    sent_at=now,
                )
            )
            await add_to_outbox(session, outbox, envelope, topic=data.TOPIC, now=now)
        await session.execute(
            update(deadlines)
            .where(deadlines.c.id == d.id)
            .values(stage_done=notice.stage if notice else d.stage_done, next_check=next_check)
        )
    return len(rows)


async def list_deadlines(*, session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(deadlines).where(deadlines.c.case_id == case_id).order_by(deadlines.c.due_date)
    )
    result = []
    for r in rows:
        sent = await session.execute(
            select(notices.c.kind, notices.c.stage, notices.c.sent_at)
            .where(notices.c.deadline_id == r.id)
            .order_by(notices.c.stage)
        )
        result.append({**dict(r._mapping), "notices": [dict(s._mapping) for s in sent]})
    return result
