"""Writing the read model: a batch of patches (:mod:`xinfang_reports.projection`) folded per
item in memory, then ONE ``INSERT … ON CONFLICT (case_id) DO UPDATE`` for the whole batch, in
which the projection's merge rules are SQL. A row is written once per batch, the stored row
and the patch are merged by the database under the row's lock, so two writers (the live
consumer and a rebuild) may write the same rows at once and still reach the rows that
:func:`~xinfang_reports.projection.merge` gives. Rows are written in case-id order: two such
batches on PostgreSQL take their row locks in one order and never deadlock.

Portable to SQLite and PostgreSQL: ``CASE``, ``OR`` and comparisons only, strings compared by
code point (``COLLATE "C"`` on PostgreSQL, SQLite's binary collation), except the set of
backlog reasons, split, deduplicated, sorted and joined again by each database's own
functions. Never commits: the caller does.

On PostgreSQL a batch is first copied (``COPY``, asyncpg's binary copy) into a temporary table
of the session's connection and merged from there by one ``INSERT … SELECT … ON CONFLICT``:
the same statement's rules over a set instead of a parameter list, about ten times faster than
binding every row's sixty parameters (``bench.reports_bench``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    Insert,
    MetaData,
    String,
    Table,
    and_,
    case,
    false,
    literal_column,
    null,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_reports import projection
from xinfang_reports.models import items
from xinfang_reports.projection import FLAGS, GROUPS, MAXIMA, REASONS, Col, Group, Key, Present

Side = Any  # the stored row (the table's columns) or the patch (``excluded``)

# the union of the stored and the new reasons, by dialect; both sides hold sorted, distinct,
# "；"-joined reasons without quotes (projection.clean_reason)
_UNION_SQL = {
    "postgresql": (
        "(SELECT substr(string_agg(r, '；' ORDER BY r COLLATE \"C\"), 1, {max}) FROM"
        " (SELECT DISTINCT unnest(string_to_array("
        "rpt_items.backlog_reasons || '；' || excluded.backlog_reasons, '；')) AS r) AS s"
        " WHERE r <> '')"
    ),
    "sqlite": (
        "(SELECT substr(group_concat(value, '；'), 1, {max}) FROM"
        " (SELECT DISTINCT value FROM json_each('[\"' || replace("
        "rpt_items.backlog_reasons || '；' || excluded.backlog_reasons, '；', '\",\"') || '\"]')"
        " WHERE value <> '' ORDER BY value))"
    ),
}


def _term(key: Key, side: Side, dialect: str) -> ColumnElement[Any]:
    if isinstance(key, Col):
        col = side[key.name]
        if dialect == "postgresql" and isinstance(items.c[key.name].type, String):
            return col.collate("C")
        return col
    # constants written into the statement (not bound once per row of the batch)
    if isinstance(key, Present):
        n = len(key.names)
        return case(
            *(
                (side[name].isnot(None), literal_column(str(n - i)))
                for i, name in enumerate(key.names)
            )
        )
    assert all(v.isidentifier() for v in key.order), "status names only"
    col = side[key.name]
    return case(
        *(
            (col == literal_column(f"'{v}'"), literal_column(str(i + 1)))
            for i, v in enumerate(key.order)
        ),
        else_=null(),
    )


def _new_wins(group: Group, stored: Side, new: Side, dialect: str) -> ColumnElement[bool]:
    """:meth:`Group.new_wins` as SQL."""
    k_new, k_old = _term(group.key, new, dialect), _term(group.key, stored, dialect)
    later = k_new > k_old if group.latest else k_new < k_old
    tie: ColumnElement[bool] = false()
    if group.tiebreak is not None:
        t_new, t_old = _term(group.tiebreak, new, dialect), _term(group.tiebreak, stored, dialect)
        tie = and_(k_new == k_old, t_new.isnot(None), or_(t_old.is_(None), t_new > t_old))
    return and_(k_new.isnot(None), or_(k_old.is_(None), later, tie))


def _set_clause(dialect: str, excluded: Side) -> dict[str, Any]:
    stored = items.c
    values: dict[str, Any] = {}
    for group in GROUPS:
        wins = _new_wins(group, stored, excluded, dialect)
        for column in group.columns:
            values[column] = case((wins, excluded[column]), else_=stored[column])
    for column in FLAGS:
        assert isinstance(items.c[column].type, Boolean)
        values[column] = or_(stored[column], excluded[column])
    for column in MAXIMA:
        values[column] = case(
            (excluded[column] > stored[column], excluded[column]), else_=stored[column]
        )
    union: ColumnElement[Any] = literal_column(
        _UNION_SQL[dialect].format(max=projection.REASONS_MAX)
    )
    values[REASONS] = case(
        (excluded[REASONS].is_(None), stored[REASONS]),
        (stored[REASONS].is_(None), excluded[REASONS]),
        else_=union,
    )
    return values


_STATEMENTS: dict[str, Insert] = {}


# the batch's rows on their way in (PostgreSQL): a temporary table of the connection, emptied
# at each commit; its columns are rpt_items' own
STAGE = "rpt_items_stage"
_stage = Table(STAGE, MetaData(), *(Column(c.name, c.type) for c in items.columns))
_CREATE_STAGE = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} "
    "(LIKE rpt_items INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
)
COLUMNS = tuple(c.name for c in items.columns)


def upsert_statement(dialect: str) -> Insert:
    """The batch upsert for ``dialect`` (sqlite | postgresql), built once. On PostgreSQL it
    reads the batch from the staging table."""
    if dialect not in _STATEMENTS:
        if dialect == "postgresql":
            pg = postgresql.insert(items).from_select(
                list(COLUMNS), select(_stage).order_by(_stage.c.case_id)
            )
            stmt: Insert = pg.on_conflict_do_update(
                index_elements=[items.c.case_id], set_=_set_clause(dialect, pg.excluded)
            )
        elif dialect == "sqlite":
            lite = sqlite.insert(items)
            stmt = lite.on_conflict_do_update(
                index_elements=[items.c.case_id], set_=_set_clause(dialect, lite.excluded)
            )
        else:
            raise ValueError(f"unsupported database dialect {dialect!r}")
        _STATEMENTS[dialect] = stmt
    return _STATEMENTS[dialect]


async def apply(session: AsyncSession, patches: Iterable[projection.Patch]) -> int:
    """Merge ``patches`` into the stored rows (one statement); returns the rows written."""
    rows = projection.fold(patches)
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    ordered = [rows[case_id] for case_id in sorted(rows)]
    if dialect == "postgresql":
        await _stage_rows(session, ordered)
        await session.execute(upsert_statement(dialect))
    else:
        await session.execute(upsert_statement(dialect), ordered)
    return len(rows)


async def _stage_rows(session: AsyncSession, rows: list[projection.Patch]) -> None:
    """Copy ``rows`` into the connection's staging table (in the session's transaction)."""
    await session.execute(_CREATE_STAGE)
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None
    records = [tuple(row[c] for c in COLUMNS) for row in rows]
    await raw.copy_records_to_table(STAGE, records=records, columns=COLUMNS)
