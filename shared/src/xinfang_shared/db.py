"""Database helpers: async engines for SQLite (embedded) and PostgreSQL, plus the two tables
every service with a database has: the transactional ``outbox`` and ``processed_events``.

Service functions never commit: the caller owns the transaction (``async with session.begin()``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeDecorator

from xinfang_shared.events import EVENT_TYPES, Envelope


class AwareDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        # always UTC: SQLite keeps the wall time and drops the zone (and compares as text)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` / ``sqlite:///`` URLs and pick the async drivers."""
    u = make_url(url)
    if u.drivername in {"postgresql", "postgres", "postgresql+psycopg2"}:
        u = u.set(drivername="postgresql+asyncpg")
    elif u.drivername == "sqlite":
        u = u.set(drivername="sqlite+aiosqlite")
    if u.drivername not in {"postgresql+asyncpg", "sqlite+aiosqlite"}:
        raise ValueError(
            f"unsupported database URL scheme {u.drivername!r}: use sqlite or postgresql"
        )
    return u.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str, *, timeout_s: float = 30.0, pool_size: int = 10) -> AsyncEngine:
    """``timeout_s`` bounds every wait on the database: for a connection from the pool, for a
    lock (SQLite's busy timeout, PostgreSQL's lock_timeout) and for a statement. A caller that
    hits it gets an error at once instead of hanging (intake turns it into 503)."""
    url = normalise_url(url)
    u = make_url(url)
    if u.drivername.startswith("sqlite"):
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(
                "PRAGMA synchronous=NORMAL"
            )  # WAL + NORMAL: durable on commit barring power loss
            cur.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    ms = str(int(timeout_s * 1000))
    return create_async_engine(
        url,
        # enough steady connections for the requests in flight: an overflow connection is
        # closed on return, and reopening one (TLS negotiation, auth) costs more than the query
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        # no ping per checkout (a round trip per request); a dropped connection fails its
        # statement, is invalidated and the caller retries (consumers) or answers 503 (intake)
        pool_pre_ping=False,
        pool_recycle=1800,
        pool_timeout=timeout_s,
        connect_args={
            "timeout": timeout_s,
            "command_timeout": timeout_s,
            "server_settings": {"lock_timeout": ms, "statement_timeout": ms},
        },
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def messaging_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Add ``outbox`` and ``processed_events`` to a service's metadata and return them."""
    outbox = Table(
        "outbox",
        metadata,
        Column(
            "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("topic", String(128), nullable=False),
        Column("key", String(128), nullable=False),
        Column("value", Text, nullable=False),  # the message as JSON text, sent as is
        Column("created_at", AwareDateTime(), nullable=False),
        Column("published_at", AwareDateTime(), nullable=True, index=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
    )
    processed = Table(
        "processed_events",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(64), nullable=False),
        Column("processed_at", AwareDateTime(), nullable=False),
    )
    return outbox, processed


Writer = Callable[[AsyncSession, list[Any]], Awaitable[Any]]


class UnitOfWork:
    """A session plus rows staged for insertion: written table by table with one executemany
    each at :meth:`flush` (before commit), instead of one round trip per row. Under load this
    is what lets a consumer handle thousands of events a second.

    It is also THE way to put a message in the outbox, alone or by the thousand:
    :meth:`emit` (an event) and :meth:`emit_message` (anything else: a dead letter). The relay
    publishes it once the caller's transaction commits. ``async with UnitOfWork(session) as
    uow`` flushes on leaving the block (for a caller that holds only a session)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._rows: dict[Table, list[dict[str, Any]]] = {}
        self._deferred: dict[Writer, list[Any]] = {}

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self._rows.setdefault(table, []).append(row)

    def defer(self, writer: Writer, item: Any) -> None:
        """Stage ``item`` for ``writer``, called once at :meth:`flush` with every item staged
        for it in order (e.g. a read model's patches of a whole batch of events, upserted in
        one statement instead of one per event)."""
        self._deferred.setdefault(writer, []).append(item)

    def staged(self, table: Table) -> list[dict[str, Any]]:
        return self._rows.get(table, [])

    def emit(
        self, outbox: Table, envelope: Envelope, *, now: datetime, topic: str | None = None
    ) -> None:
        """Stage an event for the relay (on its payload's topic unless ``topic`` is given)."""
        self.add(outbox, outbox_row(envelope, now=now, topic=topic))

    def emit_message(
        self,
        outbox: Table,
        *,
        message_id: str,
        topic: str,
        key: str,
        value: str | dict[str, Any],
        now: datetime,
    ) -> None:
        """Stage a JSON message that is not an event (a dead letter) for the relay."""
        self.add(
            outbox, message_row(message_id=message_id, topic=topic, key=key, value=value, now=now)
        )

    async def flush(self) -> None:
        rows, self._rows = self._rows, {}
        for table, batch in rows.items():
            if batch:
                # parameters apart from the statement: compiled once, cached (a hot path)
                await self.session.execute(insert(table), batch)
        deferred, self._deferred = self._deferred, {}
        for writer, staged in deferred.items():
            await writer(self.session, staged)

    async def __aenter__(self) -> UnitOfWork:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            await self.flush()


def outbox_row(envelope: Envelope, *, now: datetime, topic: str | None = None) -> dict[str, Any]:
    """The outbox row of an event (its topic is the payload's unless given)."""
    return message_row(
        message_id=envelope.id,
        topic=topic or EVENT_TYPES[envelope.type].TOPIC,
        key=envelope.subject,
        value=envelope.model_dump_json(),
        now=now,
    )


def message_row(
    *, message_id: str, topic: str, key: str, value: str | dict[str, Any], now: datetime
) -> dict[str, Any]:
    """The outbox row of any JSON message (a dict is serialised, Chinese kept as is)."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False)
    return {"event_id": message_id, "topic": topic, "key": key, "value": value, "created_at": now}


async def already_processed(session: AsyncSession, processed: Table, event_id: str) -> bool:
    row = await session.execute(
        select(processed.c.event_id).where(processed.c.event_id == event_id)
    )
    return row.first() is not None


async def mark_processed(
    session: AsyncSession, processed: Table, envelope: Envelope, *, now: datetime
) -> None:
    await session.execute(
        insert(processed),
        {"event_id": envelope.id, "event_type": envelope.type, "processed_at": now},
    )
