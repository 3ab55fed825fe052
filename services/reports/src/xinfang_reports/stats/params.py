"""The query parameters every statistics, ledger and report endpoint shares, as FastAPI
dependencies: who may read (every staff role), the period, the common filters. A value that
cannot be counted with is a 422 naming the parameter, in Chinese and English."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import Depends, Query
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import require_roles
from xinfang_shared.auth.models import PERSON_ROLES
from xinfang_shared.org import Level
from xinfang_shared.runtime import SessionDep
from xinfang_shared.text import SingleLine

from xinfang_reports.deps import ReportsDep
from xinfang_reports.stats.filters import FilterProblem, Filters, Period
from xinfang_reports.stats.measures import CHANNEL_LABELS, MEASURES
from xinfang_reports.stats.service import custom_plans

# every person's role reads the figures (a handler its own unit's); a service token does not
STAFF = Depends(require_roles(*PERSON_ROLES))
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CHANNEL_BY_LABEL = {label: code for code, label in CHANNEL_LABELS.items()}

Channel = Literal["letter", "visit", "phone", "online", "leader_mailbox"]
Kind = Literal["申诉求决", "建议意见", "检举控告"]


def problem(
    field: str, zh: str, en: str, code: str = "invalid_parameter"
) -> RequestValidationError:
    """The platform's 422 for one query parameter."""
    return RequestValidationError(
        [{"type": code, "loc": ("query", field), "msg": en, "input": None, "ctx": {"zh": zh}}]
    )


def _blank_is_none(value: object) -> object:
    """An empty parameter (``channel=``, as a form sends 全部) is no filter."""
    return None if isinstance(value, str) and not value.strip() else value


def _iso_date_only(value: object) -> object:
    """A calendar date as written (YYYY-MM-DD), never a number read as seconds since 1970."""
    value = _blank_is_none(value)
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError(
            "date_format",
            "date must be written YYYY-MM-DD",
            {"zh": "日期应写作 YYYY-MM-DD，例如 2026-07-01"},
        )
    return value


def _channel(value: object) -> object:
    """The Chinese labels are accepted too (来访 → visit)."""
    value = _blank_is_none(value)
    return _CHANNEL_BY_LABEL.get(value, value) if isinstance(value, str) else value


def _measure(value: str) -> str:
    if value not in MEASURES:
        raise PydanticCustomError(
            "measure",
            "unknown measure {value}",
            {"value": value, "zh": f"未知的统计指标：{value}（可选：{'、'.join(MEASURES)}）"},
        )
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
Blank = BeforeValidator(_blank_is_none)
Code = Annotated[SingleLine, Query(max_length=40)]
MeasureKey = Annotated[SingleLine, AfterValidator(_measure)]


async def common_filters(
    channel: Annotated[
        Channel | None,
        BeforeValidator(_channel),
        Query(
            description="渠道：letter 来信 | visit 来访 | phone 来电 | online 网上信访 | "
            "leader_mailbox 领导信箱（也可写中文）"
        ),
    ] = None,
    kind: Annotated[
        Kind | None, Blank, Query(description="性质：申诉求决 | 建议意见 | 检举控告")
    ] = None,
    category: Annotated[Code | None, Blank, Query(description="事项类别代码")] = None,
    place: Annotated[
        Code | None, Blank, Query(description="事项发生地单位代码（含其下级，如乡镇含其村）")
    ] = None,
    receiving: Annotated[
        Code | None, Blank, Query(description="登记机构（受理信访的单位）代码")
    ] = None,
    handling: Annotated[
        Code | None,
        Blank,
        Query(description="承办单位代码（部门；单位含其部门及下级单位）"),
    ] = None,
    level: Annotated[
        Level | None,
        Blank,
        Query(description="承办单位层级：province | city | county | township | village"),
    ] = None,
    collective: Annotated[
        bool | None, Blank, Query(description="集体访/联名（true/false）")
    ] = None,
    repeat: Annotated[bool | None, Blank, Query(description="重复信访（true/false）")] = None,
    measure: Annotated[
        MeasureKey | None,
        Blank,
        Query(description="仅计入该指标的件次（下钻），如 overdue、reply_ontime"),
    ] = None,
) -> Filters:
    return Filters(
        channel=channel,
        kind=kind,
        category=category,
        place=place,
        receiving=receiving,
        handling=handling,
        level=level,
        collective=collective,
        repeat=repeat,
        measure=measure,
    )


FiltersDep = Annotated[Filters, Depends(common_filters)]
FromParam = Annotated[
    IsoDate | None, Query(alias="from", description="起始日期 YYYY-MM-DD（默认本月1日）")
]
ToParam = Annotated[IsoDate | None, Query(description="截止日期 YYYY-MM-DD（默认今天）")]


def period_or_422(start: date | None, end: date | None, *, today: date) -> Period:
    try:
        return Period.of(start, end, today=today)
    except FilterProblem as p:
        raise problem(p.field, p.zh, p.en, "period") from None


async def period_param(reports: ReportsDep, start: FromParam = None, to: ToParam = None) -> Period:
    """The period asked for (default: this month up to today)."""
    return period_or_422(start, to, today=reports.today())


async def optional_period(
    reports: ReportsDep, start: FromParam = None, to: ToParam = None
) -> Period | None:
    """A period only when one of its ends is given (the backlog ledger: all by default)."""
    if start is None and to is None:
        return None
    return period_or_422(start, to, today=reports.today())


async def report_session(session: SessionDep) -> AsyncSession:
    """The request's session, its PostgreSQL transaction planning every query for its own
    values: a prepared statement's generic plan (PostgreSQL's choice after five runs) cannot
    see how few days a period spans and scanned four times the rows (bench.reports_query_bench)."""
    await custom_plans(session)
    return session


ReportSessionDep = Annotated[AsyncSession, Depends(report_session)]
PeriodDep = Annotated[Period, Depends(period_param)]
OptionalPeriodDep = Annotated[Period | None, Depends(optional_period)]
