"""The statistics API: ``GET /api/v1/stats/summary`` (every figure with 同比) and
``GET /api/v1/stats/breakdown`` (by month, day, channel, kind, category, place, receiving
office, handling body or its level), over the caller's scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from xinfang_shared.auth.deps import CurrentScope, not_found_outside_scope
from xinfang_shared.http import error_body

from xinfang_reports.deps import ReportsDep
from xinfang_reports.stats import service
from xinfang_reports.stats.params import (
    STAFF,
    Code,
    FiltersDep,
    PeriodDep,
    ReportSessionDep,
    problem,
)
from xinfang_reports.stats.schemas import BreakdownRead, By, SummaryRead

router = APIRouter(prefix="/api/v1", tags=["reports 统计"], dependencies=[STAFF])
UNIT_NOT_FOUND = error_body(
    "not_found", "单位不存在或不在统计范围内", "no such unit within the caller's scope"
)


@router.get(
    "/stats/summary",
    summary="统计概况 / every figure of the period, with last year's (同比)",
    response_model=SummaryRead,
)
async def summary(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: PeriodDep,
    filters: FiltersDep,
) -> SummaryRead:
    return await service.summary(
        session=session, scope=scope, filters=filters, period=period, as_of=reports.today()
    )


@router.get(
    "/stats/breakdown",
    summary="分组统计 / the main figures by month, channel, category, place, unit …",
    response_model=BreakdownRead,
)
async def breakdown(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: PeriodDep,
    filters: FiltersDep,
    by: Annotated[By, Query(description="分组方式")],
    within: Annotated[
        Code | None,
        Query(description="按地点分组时：汇总到该单位的下级（默认本级辖区），并只计其辖区内的"),
    ] = None,
) -> BreakdownRead:
    if within is not None:
        if by is not By.PLACE:
            raise problem(
                "within", "within 仅用于按地点分组（by=place）", "within goes with by=place only"
            )
        if scope.tree.unit(within) is None or not scope.covers(within):
            not_found_outside_scope(UNIT_NOT_FOUND)
    return await service.breakdown(
        session=session,
        scope=scope,
        filters=filters,
        period=period,
        as_of=reports.today(),
        by=by,
        within=within,
    )
