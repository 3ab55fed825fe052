"""The holiday notices loaded (sup_holiday_notices): one row per load, never updated (the audit
trail); a year's notice in force is its newest row."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.workdays import YearNotice

from xinfang_supervision.models import holiday_notices


async def notices_in_force(session: AsyncSession) -> dict[int, YearNotice]:
    """Each year's newest loaded notice."""
    newest = select(func.max(holiday_notices.c.id)).group_by(holiday_notices.c.year)
    rows = (
        await session.execute(select(holiday_notices).where(holiday_notices.c.id.in_(newest)))
    ).all()
    return {
        r.year: YearNotice(
            year=r.year,
            days_off=frozenset(date.fromisoformat(d) for d in r.days_off),
            workdays=frozenset(date.fromisoformat(d) for d in r.workdays),
            document=r.document,
        )
        for r in rows
    }


async def newest_row(session: AsyncSession, year: int) -> Any | None:
    return (
        await session.execute(
            select(holiday_notices)
            .where(holiday_notices.c.year == year)
            .order_by(holiday_notices.c.id.desc())
            .limit(1)
        )
    ).first()


def add_notice(uow: UnitOfWork, row: dict[str, Any]) -> None:
    uow.add(holiday_notices, row)
