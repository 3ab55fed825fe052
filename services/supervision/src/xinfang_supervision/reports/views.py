"""Reports: the weekly overdue 通报 and the backlog, scoped like the case lists."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError
from xinfang_shared.auth.deps import CurrentScope, get_principal
from xinfang_shared.runtime import SessionDep
from xinfang_shared.timeutil import local_date

from xinfang_supervision import labels
from xinfang_supervision.cases import service as cases
from xinfang_supervision.cases.access import visible
from xinfang_supervision.cases.schemas import CaseSummaryRead
from xinfang_supervision.deps import SupervisionDep
from xinfang_supervision.reports import service
from xinfang_supervision.reports.schemas import OverdueReportRead

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError(
            "date_format",
            "date must be written YYYY-MM-DD",
            {"zh": "日期应写作 YYYY-MM-DD，例如 2026-12-01"},
        )
    return value


@router.get(
    "/reports/overdue",
    summary="超期通报 / overdue cases per unit (weekly 通报)",
    response_model=OverdueReportRead,
)
async def overdue(
    sup: SupervisionDep,
    scope: CurrentScope,
    session: SessionDep,
    as_of: Annotated[
        date | None,
        # a calendar date as written (YYYY-MM-DD), never a number read as seconds since 1970
        BeforeValidator(_iso_date_only),
        Query(description="通报日期 YYYY-MM-DD（默认今天）/ the report's date"),
    ] = None,
) -> OverdueReportRead:
    today = as_of or local_date(sup.runtime.clock.now())
    units = [
        u
        for u in await service.overdue_units(session=session, today=today)
        if scope.may_handle(u.unit_code)  # a handler: its own unit's, like its case list
    ]
    return service.overdue_report(today, units)


@router.get("/backlog", summary="积案 / backlog cases", response_model=list[CaseSummaryRead])
async def backlog(scope: CurrentScope, session: SessionDep) -> list[CaseSummaryRead]:
    rows = await cases.backlog_rows(session=session)
    categories = await labels.category_names(session)
    return [cases.summary(r, categories) for r in rows if visible(scope, r)]
