"""Reports: the weekly overdue 通报 and the backlog (积案). Read only."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_supervision.cases import store
from xinfang_supervision.reports.schemas import OverdueItemRead, OverdueReportRead, OverdueUnitRead


async def overdue_units(*, session: AsyncSession, today: date) -> list[OverdueUnitRead]:
    """Open deadlines past their due date, grouped by the unit that holds them (the unit with
    the most first)."""
    units: dict[str, OverdueUnitRead] = {}
    for r in await store.overdue_rows(session, today):
        u = units.setdefault(
            r.unit_code, OverdueUnitRead(unit_code=r.unit_code, unit_name=r.unit_name, overdue=[])
        )
        u.overdue.append(
            OverdueItemRead(
                case_id=r.case_id,
                case_number=r.case_number,
                deadline=r.label,
                due_date=r.due_date,
                days_overdue=(today - r.due_date).days,
                leader=r.leader,
                backlog=r.backlog,
            )
        )
    return sorted(units.values(), key=lambda u: -len(u.overdue))


def overdue_report(today: date, units: list[OverdueUnitRead]) -> OverdueReportRead:
    year, week, _ = today.isocalendar()
    return OverdueReportRead(
        title=f"{year}年第{week}周信访事项超期情况通报",
        as_of=today,
        units=units,
        total_overdue=sum(len(u.overdue) for u in units),
    )
