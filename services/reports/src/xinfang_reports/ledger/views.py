"""The ledgers (台账): ``GET /api/v1/ledger/items`` (登记台账, paged; ``.xlsx`` / ``.csv``: all
rows) and ``GET /api/v1/ledger/backlog`` (积案台账, the same three ways), over the caller's
scope with the statistics' filters, so that a figure's drill-down lists the items it counts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import CurrentScope
from xinfang_shared.auth.scope import Scope

from xinfang_reports.deps import Reports, ReportsDep
from xinfang_reports.ledger import service
from xinfang_reports.ledger.export import (
    BACKLOG_COLUMNS,
    ITEM_COLUMNS,
    XLSX_MAX_ROWS,
    XLSX_TYPE,
)
from xinfang_reports.ledger.files import ledger_file
from xinfang_reports.ledger.schemas import BacklogPage, LedgerPage, LedgerSort
from xinfang_reports.stats.filters import Filters, Period
from xinfang_reports.stats.params import (
    STAFF,
    FiltersDep,
    OptionalPeriodDep,
    PeriodDep,
    ReportSessionDep,
    problem,
)

router = APIRouter(prefix="/api/v1", tags=["reports 台账"], dependencies=[STAFF])
Page = Annotated[int, Query(ge=1, le=100000, description="页码")]
PageSize = Annotated[int, Query(ge=1, le=500, description="每页行数（最多 500）")]
Sort = Annotated[LedgerSort, Query(description="排序：received 登记时间先后 | -received 最新在前")]
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XLSX_TYPE: {}}, "description": "Excel 文件 / the workbook"}
}
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV 文件（UTF-8，带 BOM）/ the CSV file"}
}


async def _export_limit(
    reports: Reports, session: AsyncSession, where: list[ColumnElement[bool]], xlsx: bool
) -> None:
    """422 when the export would be larger than the service allows."""
    limit = reports.settings.max_export_rows
    if xlsx:
        limit = min(limit, XLSX_MAX_ROWS)
    total = await service.count(session=session, where=where)
    if total > limit:
        raise problem(
            "to",
            f"导出共 {total} 行，超过上限 {limit} 行，请缩短统计区间或增加筛选条件",
            f"the export would have {total} rows, more than the limit of {limit}: "
            "shorten the period or filter further",
            "export_too_large",
        )


def _span(period: Period | None, as_of: date) -> str:
    return f"{period.start}_{period.end}" if period else f"截至{as_of}"


@router.get("/ledger/items", summary="登记台账 / the items, paged", response_model=LedgerPage)
async def ledger_items(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: PeriodDep,
    filters: FiltersDep,
    page: Page = 1,
    page_size: PageSize = 50,
    sort: Sort = LedgerSort.RECEIVED,
) -> LedgerPage:
    where = service.items_where(scope=scope, filters=filters, period=period, as_of=reports.today())
    total = await service.count(session=session, where=where)
    rows = (
        await service.item_page(session=session, where=where, sort=sort, page=page, size=page_size)
        if total > (page - 1) * page_size
        else []
    )
    return LedgerPage(total=total, page=page, page_size=page_size, rows=rows)


async def _export_items(
    reports: Reports,
    scope: Scope,
    session: AsyncSession,
    period: Period,
    filters: Filters,
    sort: LedgerSort,
    *,
    xlsx: bool,
) -> StreamingResponse:
    where = service.items_where(scope=scope, filters=filters, period=period, as_of=reports.today())
    await _export_limit(reports, session, where, xlsx)
    span = _span(period, reports.today())
    return await ledger_file(
        sessions=reports.runtime.sessions,
        stmt=service.items_query(where, sort),
        to_row=service.item_row,
        columns=ITEM_COLUMNS,
        title="信访登记台账",
        span=span,
        ascii_name=f"ledger_{period.start}_{period.end}",
        xlsx=xlsx,
    )


@router.get(
    "/ledger/items.xlsx",
    summary="导出登记台账（Excel）/ every item as .xlsx",
    response_class=StreamingResponse,
    responses=XLSX_RESPONSE,
)
async def export_items_xlsx(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: PeriodDep,
    filters: FiltersDep,
    sort: Sort = LedgerSort.RECEIVED,
) -> StreamingResponse:
    return await _export_items(reports, scope, session, period, filters, sort, xlsx=True)


@router.get(
    "/ledger/items.csv",
    summary="导出登记台账（CSV）/ every item as .csv (UTF-8 with BOM)",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
async def export_items_csv(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: PeriodDep,
    filters: FiltersDep,
    sort: Sort = LedgerSort.RECEIVED,
) -> StreamingResponse:
    return await _export_items(reports, scope, session, period, filters, sort, xlsx=False)


@router.get(
    "/ledger/backlog", summary="积案台账 / the backlog cases, paged", response_model=BacklogPage
)
async def ledger_backlog(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: OptionalPeriodDep,
    filters: FiltersDep,
    page: Page = 1,
    page_size: PageSize = 50,
) -> BacklogPage:
    where = service.backlog_where(
        scope=scope, filters=filters, period=period, as_of=reports.today()
    )
    total = await service.count(session=session, where=where)
    rows = (
        await service.backlog_page(session=session, where=where, page=page, size=page_size)
        if total > (page - 1) * page_size
        else []
    )
    return BacklogPage(total=total, page=page, page_size=page_size, rows=rows)


async def _export_backlog(
    reports: Reports,
    scope: Scope,
    session: AsyncSession,
    period: Period | None,
    filters: Filters,
    *,
    xlsx: bool,
) -> StreamingResponse:
    where = service.backlog_where(
        scope=scope, filters=filters, period=period, as_of=reports.today()
    )
    await _export_limit(reports, session, where, xlsx)
    span = _span(period, reports.today())
    ascii_span = f"{period.start}_{period.end}" if period else f"{reports.today()}"
    return await ledger_file(
        sessions=reports.runtime.sessions,
        stmt=service.backlog_query(where),
        to_row=service.backlog_row,
        columns=BACKLOG_COLUMNS,
        title="积案台账",
        span=span,
        ascii_name=f"backlog_{ascii_span}",
        xlsx=xlsx,
    )


@router.get(
    "/ledger/backlog.xlsx",
    summary="导出积案台账（Excel）/ the backlog cases as .xlsx",
    response_class=StreamingResponse,
    responses=XLSX_RESPONSE,
)
async def export_backlog_xlsx(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: OptionalPeriodDep,
    filters: FiltersDep,
) -> StreamingResponse:
    return await _export_backlog(reports, scope, session, period, filters, xlsx=True)


@router.get(
    "/ledger/backlog.csv",
    summary="导出积案台账（CSV）/ the backlog cases as .csv (UTF-8 with BOM)",
    response_class=StreamingResponse,
    responses=CSV_RESPONSE,
)
async def export_backlog_csv(
    reports: ReportsDep,
    scope: CurrentScope,
    session: ReportSessionDep,
    period: OptionalPeriodDep,
    filters: FiltersDep,
) -> StreamingResponse:
    return await _export_backlog(reports, scope, session, period, filters, xlsx=False)
