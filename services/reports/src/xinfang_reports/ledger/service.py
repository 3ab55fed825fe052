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
from xinfang_reports.stats.service import backlog_clauses, custom_plans

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
    """By the day received (the index on it serves a page without sorting the period), then
    the time, then the id."""
    columns = (i.received_date, i.received_at, i.case_id)
    if sort is LedgerSort.RECEIVED_DESC:
        return [c.desc().nulls_last() for c in columns]
    return [c.asc().nulls_last() for c in columns]


BACKLOG_ORDER = (i.backlog_date.asc().nulls_last(), i.case_number.asc(), i.case_id.asc())


def items_query(where: Sequence[ColumnElement[bool]], sort: LedgerSort) -> Select[Any]:
    return select(*ITEM_COLUMNS).where(*where).order_by(*item_order(sort))


def backlog_query(where: Sequence[ColumnElement[bool]]) -> Select[Any]:
    return select(*BACKLOG_COLUMNS).where(*where).order_by(*BACKLOG_ORDER)


ITEM_KEYS = tuple(c.key for c in ITEM_COLUMNS)
BACKLOG_KEYS = tuple(c.key for c in BACKLOG_COLUMNS)


def petitioners_shown(row: dict[str, Any]) -> str | None:
    """Who petitioned, as a ledger may show it: never a sealed informant's name."""
    if row["informant_sealed"]:
        return SEALED
    return row["petitioners"] or (ANONYMOUS if row["anonymous"] else None)


def item_row(r: Any) -> dict[str, Any]:
    """A ledger row (the fields of :class:`LedgerRow`, and 事项 for an export) from a row of
    :func:`items_query`."""
    row = dict(zip(ITEM_KEYS, r, strict=True))
    channel = row["channel"]
    row["channel_label"] = CHANNEL_LABELS.get(channel, channel) if channel else None
    row["petitioners"] = petitioners_shown(row)
    row["matter"] = row["summary"] or row["title"]  # 事项 in an export
    row["overdue"] = bool(row["overdue"])
    row["supervised"] = bool(row["supervised"])
    return row


def backlog_row(r: Any) -> dict[str, Any]:
    """A backlog row (the fields of :class:`BacklogRow`) from a row of :func:`backlog_query`."""
    row = dict(zip(BACKLOG_KEYS, r, strict=True))
    row["title"] = row["title"] or row["summary"]
    row["escalations"] = int(row["escalations"] or 0)
    row["supervised"] = bool(row["supervised"])
    return row


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
        await custom_plans(session)
        result = await session.stream(stmt.execution_options(yield_per=CHUNK))
        async for chunk in result.partitions(CHUNK):
            yield chunk
