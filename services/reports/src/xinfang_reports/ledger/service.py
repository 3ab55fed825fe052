"""The ledgers' queries: the registration ledger (登记台账: the items a summary counts, with the
same filters, so that a figure's drill-down lists exactly the items it counts) and the backlog
ledger (积案台账). A page, a count, or every row streamed in chunks for an export (a
server-side cursor: memory stays flat however many rows). Keyword-only, read only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from xinfang_shared.auth.scope import Scope

from xinfang_reports.ledger.schemas import ANONYMOUS, SEALED, BacklogRow, LedgerRow, LedgerSort
from xinfang_reports.models import items
from xinfang_reports.stats.filters import Filters, Period, base_clauses
from xinfang_reports.stats.measures import CHANNEL_LABELS, MEASURES, Window
from xinfang_reports.stats.service import backlog_clauses

i = items.c
CHUNK = 2000  # rows fetched (and written) at a time by an export
Where = list[ColumnElement[bool]]

ITEM_COLUMNS = (
    i.case_id,
    i.case_number,
    i.received_date,
    i.channel,
    i.petitioners,
    i.informant_sealed,
    i.anonymous,
    i.persons,
    i.place_name,
    i.title,
    i.summary,
    i.kind,
    i.category_name,
    i.handling_name,
    i.reply_due,
    i.status_label,
    i.outcome,
    i.repeat_match,
    i.overdue,
    i.supervised,
)
BACKLOG_COLUMNS = (
    i.case_id,
    i.case_number,
    i.received_date,
    i.title,
    i.summary,
    i.category_name,
    i.place_name,
    i.handling_name,
    i.leader,
    i.backlog_date,
    i.backlog_reasons,
    i.escalations,
    i.supervised,
    i.status_label,
    i.closed_date,
)


def items_where(*, scope: Scope, filters: Filters, period: Period, as_of: date) -> Where:
    """The items the summary counts for these filters: the period's cohort, or for a backlog
    measure (not a cohort) the items its rule takes."""
    w = period.window(as_of)
    if filters.measure is not None and not MEASURES[filters.measure].cohort:
        return [*base_clauses(scope, filters, w, period=None), *backlog_clauses(period)]
    return base_clauses(scope, filters, w, period=period)


def backlog_where(*, scope: Scope, filters: Filters, period: Period | None, as_of: date) -> Where:
    """The backlog cases (积案) in the period (the 积案 figure's rule), or all of them."""
    if period is None:
        w = Window(date.min, date.max, as_of)
        return [*base_clauses(scope, filters, w, period=None), i.backlog == true()]
    w = period.window(as_of)
    return [
        *base_clauses(scope, filters, w, period=None),
        *backlog_clauses(period),
        MEASURES["backlog_total"].where(w),
    ]


def item_order(sort: LedgerSort) -> list[Any]:
    if sort is LedgerSort.RECEIVED_DESC:
        return [i.received_at.desc().nulls_last(), i.case_id.desc()]
    return [i.received_at.asc().nulls_last(), i.case_id.asc()]


BACKLOG_ORDER = (i.backlog_date.asc().nulls_last(), i.case_number.asc(), i.case_id.asc())


def items_query(where: Sequence[ColumnElement[bool]], sort: LedgerSort) -> Select[Any]:
    return select(*ITEM_COLUMNS).where(*where).order_by(*item_order(sort))


def backlog_query(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return select(*BACKLOG_COLUMNS).where(*where).order_by(*BACKLOG_ORDER)


def petitioners_shown(r: Any) -> str | None:
    """Who petitioned, as a ledger may show it: never a sealed informant's name."""
    if r.informant_sealed:
        return SEALED
    return r.petitioners or (ANONYMOUS if r.anonymous else None)


def item_row(r: Any) -> dict[str, Any]:
    """A ledger row (the fields of :class:`LedgerRow`) from a row of :data:`items_query`."""
    return {
        "case_id": r.case_id,
        "case_number": r.case_number,
        "received_date": r.received_date,
        "channel": r.channel,
        "channel_label": CHANNEL_LABELS.get(r.channel, r.channel) if r.channel else None,
        "petitioners": petitioners_shown(r),
        "persons": r.persons,
        "place_name": r.place_name,
        "title": r.title,
        "summary": r.summary,
        "matter": r.summary or r.title,  # 事项 in an export
        "kind": r.kind,
        "category_name": r.category_name,
        "handling_name": r.handling_name,
        "reply_due": r.reply_due,
        "status_label": r.status_label,
        "outcome": r.outcome,
        "repeat_match": r.repeat_match,
        "overdue": bool(r.overdue),
        "supervised": bool(r.supervised),
    }


def backlog_row(r: Any) -> dict[str, Any]:
    """A backlog row (the fields of :class:`BacklogRow`) from a row of :data:`backlog_query`."""
    return {
        "case_id": r.case_id,
        "case_number": r.case_number,
        "received_date": r.received_date,
        "title": r.title or r.summary,
        "category_name": r.category_name,
        "place_name": r.place_name,
        "handling_name": r.handling_name,
        "leader": r.leader,
        "backlog_date": r.backlog_date,
        "backlog_reasons": r.backlog_reasons,
        "escalations": int(r.escalations or 0),
        "supervised": bool(r.supervised),
        "status_label": r.status_label,
        "closed_date": r.closed_date,
    }


async def count(*, session: AsyncSession, where: Sequence[ColumnElement[bool]]) -> int:
    stmt = select(func.count()).select_from(items).where(*where)
    return int((await session.execute(stmt)).scalar_one())


async def item_page(
    *, session: AsyncSession, where: Where, sort: LedgerSort, page: int, size: int
) -> list[LedgerRow]:
    stmt = items_query(where, sort).limit(size).offset((page - 1) * size)
    return [LedgerRow.model_validate(item_row(r)) for r in await session.execute(stmt)]


async def backlog_page(
    *, session: AsyncSession, where: Where, page: int, size: int
) -> list[BacklogRow]:
    stmt = backlog_query(where).limit(size).offset((page - 1) * size)
    return [BacklogRow.model_validate(backlog_row(r)) for r in await session.execute(stmt)]


async def stream(
    *, sessions: async_sessionmaker[AsyncSession], stmt: Select[Any]
) -> AsyncIterator[Sequence[Any]]:
    """Every row of ``stmt``, :data:`CHUNK` at a time, through a server-side cursor on a
    session of its own (it outlives the request's)."""
    async with sessions() as session:
        result = await session.stream(stmt.execution_options(yield_per=CHUNK))
        async for chunk in result.partitions(CHUNK):
            yield chunk
