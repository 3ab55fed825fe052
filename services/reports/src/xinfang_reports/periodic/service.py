"""The periodic report (月报、季报、年报 — the annual one is the A41 statistics): the summary's
figures with 同比 and the main tables of the period, for the caller's scope and filters.
Keyword-only, read only."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.scope import Scope

from xinfang_reports.periodic.schemas import BacklogRead, PeriodicReport, ReportPeriod, UnitRank
from xinfang_reports.stats import service as stats
from xinfang_reports.stats.dimensions import OUTSIDE
from xinfang_reports.stats.filters import QUARTERS, Filters, Period
from xinfang_reports.stats.measures import percent
from xinfang_reports.stats.schemas import BreakdownRow, By

TOP = 10


def report_period(kind: ReportPeriod, year: int, number: int | None) -> Period:
    if kind is ReportPeriod.MONTH:
        return Period.month(year, number or 1)
    if kind is ReportPeriod.QUARTER:
        return Period.quarter(year, number or 1)
    return Period.year(year)


def report_title(scope_name: str, kind: ReportPeriod, year: int, number: int | None) -> str:
    """清河县2026年第三季度信访工作统计报告, 清河县2026年7月…, 清河县2026年度…"""
    if kind is ReportPeriod.MONTH:
        when = f"{year}年{number}月"
    elif kind is ReportPeriod.QUARTER:
        when = f"{year}年{QUARTERS[(number or 1) - 1]}"
    else:
        when = f"{year}年度"
    return f"{scope_name}{when}信访工作统计报告"


def rank_units(rows: list[BreakdownRow]) -> list[UnitRank]:
    """The handling bodies with items: the highest 按期办结率 first (none assessable last),
    then the fewest overdue, then the most items."""
    units = [
        UnitRank(
            code=r.key,
            name=r.name,
            items=r.items,
            reply_assessable=r.reply_assessable,
            reply_ontime=r.reply_ontime,
            rate=r.reply_ontime_rate,
            overdue=r.overdue,
            supervised=r.supervised,
        )
        for r in rows
        if r.key and r.items
    ]
    units.sort(key=lambda u: (u.rate is None, -(u.rate or 0.0), u.overdue, -u.items, u.code))
    return units


def _top(rows: list[BreakdownRow]) -> list[BreakdownRow]:
    return [r for r in rows if r.items and r.key not in ("", OUTSIDE)][:TOP]


async def periodic_report(
    *,
    session: AsyncSession,
    scope: Scope,
    filters: Filters,
    kind: ReportPeriod,
    year: int,
    number: int | None,
    as_of: date,
) -> PeriodicReport:
    period = report_period(kind, year, number)
    previous = period.previous()
    cur, prev = await stats.counts(
        session=session, scope=scope, filters=filters, period=period, as_of=as_of
    )

    tables = await stats.breakdown_tables(
        session=session,
        scope=scope,
        filters=filters,
        period=period,
        as_of=as_of,
        by=[By.CHANNEL, By.KIND, By.CATEGORY, By.PLACE, By.HANDLING, By.MONTH],
        without_previous=[By.HANDLING],
    )
    scope_read = stats.scope_read(scope)
    return PeriodicReport(
        title=report_title(scope_read.name, kind, year, number),
        kind=kind,
        as_of=as_of,
        scope=scope_read,
        period=stats.period_read(period),
        previous=stats.period_read(previous),
        summary=stats.figures(cur, prev),
        by_channel=tables[By.CHANNEL],
        by_kind=tables[By.KIND],
        top_categories=_top(tables[By.CATEGORY]),
        top_places=_top(tables[By.PLACE]),
        units=rank_units(tables[By.HANDLING]),
        backlog=BacklogRead(
            total=cur["backlog_total"],
            resolved=cur["backlog_resolved"],
            rate=percent(cur["backlog_resolved"], cur["backlog_total"]),
        ),
        by_month=tables[By.MONTH],
    )
