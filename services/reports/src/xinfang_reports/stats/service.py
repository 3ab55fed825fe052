"""The figures: one aggregate query per period counts every measure at once (``SUM(CASE WHEN
<condition> THEN 1 ELSE 0 END)``, grouped by the raw codes for a breakdown), the backlog's
measures in one more; the groups are rolled up and named here with the org tree. Keyword-only
functions that only read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Column, ColumnElement, and_, case, func, literal_column, select, text, true
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, org_name

from xinfang_reports.models import items
from xinfang_reports.stats.dimensions import Dimension, dimension
from xinfang_reports.stats.filters import Filters, Period, base_clauses, units_under
from xinfang_reports.stats.measures import (
    BACKLOG,
    COHORT,
    FIGURES,
    MEASURES,
    PENDING,
    RATES,
    ROW_MEASURES,
    Measure,
    Window,
    difference,
    percent,
)
from xinfang_reports.stats.schemas import (
    BY_LABELS,
    BreakdownRead,
    BreakdownRow,
    By,
    FigureRead,
    PeriodRead,
    ScopeRead,
    SummaryRead,
)

i = items.c
Counts = dict[str, int]


async def custom_plans(session: AsyncSession) -> None:
    """On PostgreSQL, plan each query of this transaction for its own values (never a
    prepared statement's generic plan)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _column(
    m: Measure,
    w: Window,
    *,
    also: ColumnElement[bool] | None = None,
    label: str | None = None,
) -> ColumnElement[Any]:
    """``SUM(CASE WHEN <m's condition> THEN 1 ELSE 0 END)`` (of ``persons`` for 人次; COUNT(*)
    for all items), the condition ``also`` added."""
    condition = m.where(w) if also is None else and_(m.where(w), also)
    if m.key == "items" and also is None:
        return func.count().label(label or m.key)
    value = func.coalesce(i.persons, 0) if m.sums_persons else literal_column("1")
    return func.sum(case((condition, value), else_=literal_column("0"))).label(label or m.key)


def backlog_clauses(period: Period) -> list[ColumnElement[bool]]:
    """What every backlog measure needs (so that the backlog index is used)."""
    return [i.backlog == true(), i.backlog_date <= period.end]


async def _tally(
    session: AsyncSession,
    *,
    where: Sequence[ColumnElement[bool]],
    measures: Sequence[Measure],
    window: Window,
    group_by: Sequence[ColumnElement[Any]] = (),
    names: Sequence[ColumnElement[Any]] = (),
) -> list[Any]:
    stmt = select(*group_by, *names, *(_column(m, window) for m in measures)).where(*where)
    if group_by:
        stmt = stmt.group_by(*group_by)
    return list((await session.execute(stmt)).all())


async def counts(
    *, session: AsyncSession, scope: Scope, filters: Filters, period: Period, as_of: date
) -> tuple[Counts, Counts]:
    """Every measure over ``period`` and over the same period a year earlier: each period's
    cohort in one query, the backlog of both in a third (the earlier period's backlog rows are
    among the later one's: ``backlog_date`` up to the later end)."""
    previous = period.previous()
    found: list[dict[str, Any]] = []
    for p in (period, previous):
        w = p.window(as_of)
        (cohort,) = await _tally(
            session, where=base_clauses(scope, filters, w, period=p), measures=COHORT, window=w
        )
        found.append(dict(cohort._mapping))
    unmeasured = replace(filters, measure=None)  # its condition differs by period: in the sums
    windows = (period.window(as_of), previous.window(as_of))
    columns = []
    for n, w in enumerate(windows):
        also = MEASURES[filters.measure].where(w) if filters.measure else None
        columns += [_column(m, w, also=also, label=f"{m.key}_{n}") for m in BACKLOG]
    stmt = select(*columns).where(
        *base_clauses(scope, unmeasured, windows[0], period=None), *backlog_clauses(period)
    )
    backlog = (await session.execute(stmt)).one()._mapping
    for n, into in enumerate(found):
        into.update({m.key: backlog[f"{m.key}_{n}"] for m in BACKLOG})
    cur, prev = ({k: int(f[k] or 0) for k in MEASURES} for f in found)
    return cur, prev


def figures(cur: Counts, prev: Counts) -> list[FigureRead]:
    """The summary's figures in :data:`FIGURES` order, each with last year's and the change."""
    out = []
    for key in FIGURES:
        if (m := MEASURES.get(key)) is not None:
            value, previous = cur[key], prev[key]
            out.append(
                FigureRead(
                    key=key,
                    label=m.label,
                    unit=m.unit,
                    value=value,
                    previous=previous,
                    change=difference(value, previous),
                    numerator=None,
                    denominator=None,
                    measure=key,
                    note=None,
                )
            )
        elif (r := RATES.get(key)) is not None:
            rate = percent(cur[r.numerator], cur[r.denominator])
            before = percent(prev[r.numerator], prev[r.denominator])
            out.append(
                FigureRead(
                    key=key,
                    label=r.label,
                    unit=r.unit,
                    value=rate,
                    previous=before,
                    change=difference(rate, before),
                    numerator=cur[r.numerator],
                    denominator=cur[r.denominator],
                    measure=r.denominator,
                    note=f"{MEASURES[r.numerator].label} ÷ {MEASURES[r.denominator].label}",
                )
            )
        else:
            p = PENDING[key]
            out.append(
                FigureRead(
                    key=key,
                    label=p.label,
                    unit=p.unit,
                    value=None,
                    previous=None,
                    change=None,
                    numerator=None,
                    denominator=None,
                    measure=None,
                    note=p.note,
                )
            )
    return out


def period_read(period: Period) -> PeriodRead:
    return PeriodRead.model_validate(
        {"from": period.start, "to": period.end, "label": period.label}
    )


def scope_read(scope: Scope) -> ScopeRead:
    """The unit the figures are of; a handler's own department."""
    code = scope.principal.org_code if scope.principal.role is Role.HANDLER else scope.unit_code
    return ScopeRead(code=code, name=org_name(scope.tree, code) or code)


async def summary(
    *, session: AsyncSession, scope: Scope, filters: Filters, period: Period, as_of: date
) -> SummaryRead:
    previous = period.previous()
    cur, prev = await counts(
        session=session, scope=scope, filters=filters, period=period, as_of=as_of
    )
    return SummaryRead(
        period=period_read(period),
        previous=period_read(previous),
        as_of=as_of,
        scope=scope_read(scope),
        figures=figures(cur, prev),
    )


@dataclass
class Groups:
    """A breakdown's counts by row key, and the names the rows carried."""

    counts: dict[str, Counts]
    names: dict[str, str]


# one raw group of a grouping column: its value, the names the rows carried, the counts
RawGroup = tuple[Any, dict[str, str], Counts]


async def _raw_groups(
    session: AsyncSession,
    *,
    columns: Sequence[Column[Any]],
    named: Sequence[Column[Any]],
    where: Sequence[ColumnElement[bool]],
    measures: Sequence[Measure],
    window: Window,
) -> list[list[RawGroup]]:
    """The measures grouped by each of ``columns`` in turn (with the MAX of ``named``): on
    PostgreSQL in one query (GROUPING SETS: one pass over the rows), else a query each."""
    aggregates = [_column(m, window) for m in measures]
    names = [func.max(c).label(f"name_{c.key}") for c in named]
    n = len(columns)
    out: list[list[RawGroup]] = [[] for _ in columns]

    def note(into: list[RawGroup], value: Any, row: Any, first_name: int) -> None:
        found = {c.key: row[first_name + k] for k, c in enumerate(named) if row[first_name + k]}
        counts = {m.key: int(row[first_name + len(named) + k] or 0) for k, m in enumerate(measures)}
        into.append((value, found, counts))

    if n > 1 and session.get_bind().dialect.name == "postgresql":
        stmt = (
            select(func.grouping(*columns).label("grouping_id"), *columns, *names, *aggregates)
            .where(*where)
            .group_by(func.grouping_sets(*columns))
        )
        # GROUPING() sets the bit of every column a row is not grouped by (the first: highest)
        which = {((1 << n) - 1) ^ (1 << (n - 1 - j)): j for j in range(n)}
        for row in await session.execute(stmt):
            j = which[row[0]]
            note(out[j], row[1 + j], row, 1 + n)
        return out
    for j, column in enumerate(columns):
        stmt = select(column, *names, *aggregates).where(*where).group_by(column)
        for row in await session.execute(stmt):
            note(out[j], row[0], row, 1)
    return out


async def group_counts(
    *,
    session: AsyncSession,
    dims: dict[By, Dimension],
    where: Sequence[ColumnElement[bool]],
    measures: Sequence[Measure],
    window: Window,
) -> dict[By, Groups]:
    """The measures by each dimension's raw groups (grouped by the raw codes in SQL), rolled
    up to the dimension's keys and named here."""
    columns = list({d.column.key: d.column for d in dims.values()}.values())
    named = list({d.named.key: d.named for d in dims.values() if d.named is not None}.values())
    raw = await _raw_groups(
        session, columns=columns, named=named, where=where, measures=measures, window=window
    )
    index = {c.key: j for j, c in enumerate(columns)}
    out: dict[By, Groups] = {}
    for by, dim in dims.items():
        groups = Groups({}, {})
        for value, names, counts in raw[index[dim.column.key]]:
            key = dim.key(value)
            into = groups.counts.setdefault(key, dict.fromkeys(counts, 0))
            for k, v in counts.items():
                into[k] += v
            if dim.named is not None and (name := names.get(dim.named.key)):
                groups.names.setdefault(key, name)
        out[by] = groups
    return out


def _row(key: str, name: str, c: Counts, previous_items: int) -> BreakdownRow:
    return BreakdownRow(
        key=key,
        name=name,
        previous_items=previous_items,
        reply_ontime_rate=percent(c["reply_ontime"], c["reply_assessable"]),
        **{k: c[k] for k in ROW_MEASURES},
    )


def rows_of(dim: Dimension, cur: Groups, prev: Groups) -> list[BreakdownRow]:
    """The rows: time ascending for a time dimension, else the most items first."""
    empty = dict.fromkeys(ROW_MEASURES, 0)  # (last year's: the items only)
    keys = list(dim.keys)
    if not dim.by_time:
        keys += [k for k in (*cur.counts, *prev.counts) if k not in keys]
    names = {**prev.names, **cur.names}
    rows = [
        _row(
            key,
            dim.name(key, names),
            cur.counts.get(key, empty),
            prev.counts.get(dim.previous_key(key), empty)["items"],
        )
        for key in dict.fromkeys(keys)
    ]
    if not dim.by_time:
        rows.sort(key=lambda r: (-r.items, -r.previous_items, r.key == "", r.key))
    return rows


async def breakdown_tables(
    *,
    session: AsyncSession,
    scope: Scope,
    filters: Filters,
    period: Period,
    as_of: date,
    by: Sequence[By],
    within: str | None = None,
    without_previous: Sequence[By] = (),
) -> dict[By, list[BreakdownRow]]:
    """The rows of the breakdowns ``by`` (places: under ``within``'s children, by default the
    scope's unit's; a ``within`` given also keeps only the items whose place lies in it): the
    period's groups in one query, last year's items in another (on PostgreSQL)."""
    tree = scope.tree
    dims = {b: dimension(b, tree=tree, period=period, within=within or scope.unit_code) for b in by}
    extra = [i.place_code.in_(sorted(units_under(tree, within)))] if within else []

    async def of(
        p: Period, measures: Sequence[Measure], which: dict[By, Dimension]
    ) -> dict[By, Groups]:
        w = p.window(as_of)
        where = [*base_clauses(scope, filters, w, period=p), *extra]
        if not which:
            return {}
        return await group_counts(
            session=session, dims=which, where=where, measures=measures, window=w
        )

    cur = await of(period, [MEASURES[k] for k in ROW_MEASURES], dims)
    earlier = {b: d for b, d in dims.items() if b not in without_previous}
    prev = await of(period.previous(), [MEASURES["items"]], earlier)
    return {b: rows_of(d, cur[b], prev.get(b, Groups({}, {}))) for b, d in dims.items()}


async def breakdown(
    *,
    session: AsyncSession,
    scope: Scope,
    filters: Filters,
    period: Period,
    as_of: date,
    by: By,
    within: str | None = None,
) -> BreakdownRead:
    tables = await breakdown_tables(
        session=session,
        scope=scope,
        filters=filters,
        period=period,
        as_of=as_of,
        by=[by],
        within=within,
    )
    return BreakdownRead(
        by=by,
        label=BY_LABELS[by],
        period=period_read(period),
        previous=period_read(period.previous()),
        as_of=as_of,
        scope=scope_read(scope),
        rows=tables[by],
    )
