"""Repeat arrivals of a case (from case.linked) and the repeat-wave alerts raised on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_supervision.models import repeat_arrivals, repeat_wave_alerts


async def add_arrival(
    session: AsyncSession, *, item_case_id: str, case_id: str, item_case_number: str, at: datetime
) -> None:
    await session.execute(
        insert(repeat_arrivals).values(
            item_case_id=item_case_id,
            case_id=case_id,
            item_case_number=item_case_number,
            arrived_at=at,
        )
    )


async def arrivals_since(session: AsyncSession, case_id: str, since: datetime) -> int:
    return int(
        (
            await session.execute(
                select(func.count())
                .select_from(repeat_arrivals)
                .where(repeat_arrivals.c.case_id == case_id)
                .where(repeat_arrivals.c.arrived_at > since)
            )
        ).scalar_one()
    )


async def wave_raised_since(session: AsyncSession, case_id: str, since: datetime) -> bool:
    found = (
        await session.execute(
            select(repeat_wave_alerts.c.id)
            .where(repeat_wave_alerts.c.case_id == case_id)
            .where(repeat_wave_alerts.c.raised_at > since)
        )
    ).first()
    return found is not None


async def add_wave(session: AsyncSession, *, case_id: str, arrivals: int, at: datetime) -> None:
    await session.execute(
        insert(repeat_wave_alerts).values(case_id=case_id, arrivals=arrivals, raised_at=at)
    )
