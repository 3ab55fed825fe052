"""The periodic report: ``GET /api/v1/reports/periodic`` (JSON) and
``GET /api/v1/reports/periodic.xlsx`` (the same as one workbook): 月报 (period=month&number=7),
季报 (period=quarter&number=3), 年报 (period=year: the annual A41 statistics)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import CurrentScope
from xinfang_shared.auth.scope import Scope

from xinfang_reports.deps import Reports, ReportsDep
from xinfang_reports.ledger.export import XLSX_TYPE, content_disposition
from xinfang_reports.periodic.schemas import PeriodicReport, ReportPeriod
from xinfang_reports.periodic.service import periodic_report
from xinfang_reports.periodic.workbook import periodic_workbook
from xinfang_reports.stats.filters import MAX_YEAR, MIN_YEAR, Filters
from xinfang_reports.stats.params import STAFF, FiltersDep, ReportSessionDep, problem

router = APIRouter(prefix="/api/v1", tags=["reports 统计"], dependencies=[STAFF])
PeriodParam = Annotated[ReportPeriod, Query(description="month 月报 | quarter 季报 | year 年报")]
YearParam = Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年份（默认今年）")]
NumberParam = Annotated[
    int | None, Query(description="月份 1–12（月报）或季度 1–4（季报）；年报不用")
]
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_TYPE: {}}, "description": "Excel 文件 / the workbook"}
}


def _number(kind: ReportPeriod, number: int | None) -> int | None:
    """The month or quarter asked for; 422 when it is missing or out of range."""
    if kind is ReportPeriod.YEAR:
        return None
    top, what, what_en = (
        (12, "月份", "month") if kind is ReportPeriod.MONTH else (4, "季度", "quarter")
    )
    if number is None or not 1 <= number <= top:
        raise problem(
            "number",
            f"请指定{what}（1–{top}）",
            f"number must be the {what_en}, 1 to {top}",
        )
    return number


async def _report(
    reports: Reports,
    scope: Scope,
    session: AsyncSession,
    filters: Filters,
    kind: ReportPeriod,
    year: int | None,
    number: int | None,
) -> PeriodicReport:
    return await periodic_report(
        session=session,
        scope=scope,
        filters=filters,
        kind=kind,
        year=year or reports.today().year,
        number=_number(kind, number),
        as_of=reports.today(),
    )


@router.get(
    "/reports/periodic",
    summary="定期统计报告（月报、季报、年报）/ the periodic report",
    response_model=PeriodicReport,
)
async def periodic(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    filters: FiltersDep,
    period: PeriodParam,
    year: YearParam = None,
    number: NumberParam = None,
) -> PeriodicReport:
    return await _report(reports, scope, session, filters, period, year, number)


@router.get(
    "/reports/periodic.xlsx",
    summary="定期统计报告（Excel）/ the periodic report as a workbook",
    response_class=Response,
    responses=XLSX_RESPONSE,
)
async def periodic_xlsx(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    filters: FiltersDep,
    period: PeriodParam,
    year: YearParam = None,
    number: NumberParam = None,
) -> Response:
    report = await _report(reports, scope, session, filters, period, year, number)
    body = periodic_workbook(report)
    fallback = f"report_{report.period.from_}_{report.period.to}.xlsx"
    return Response(
        body,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(f"{report.title}.xlsx", fallback)},
    )
