"""Rebuilding the read model from the topics: ``xinfang-reports rebuild [--batch N]``.

1. The database is brought to the newest migration, then every row of ``rpt_items`` and of
   ``processed_events`` is deleted, in one transaction.
2. THEN the end offset of every partition of the read model's topics
   (:data:`xinfang_reports.projection.TOPICS`) is read: what the rebuild reads up to.
3. Each partition is read from its beginning up to that offset by a plain consumer (no
   consumer group: nothing is committed, the live service's group is left alone).
4. A message that is no event (not JSON, not a CloudEvent) or whose data fails its schema is
   counted and skipped; an event the read model does not use is skipped.
5. The events' patches are folded in batches (5000 events unless told) and each batch is
   written with one upsert in its own transaction (:func:`apply_events`, which a benchmark
   may call without Kafka).
6. A JSON summary: events read, applied, skipped, undecodable, rows, seconds, events/s.

Safe while the live service runs: every column's merge rule is idempotent and independent of
the order events arrive in (:mod:`xinfang_reports.projection`), and each write merges into
the stored row under its lock (:mod:`xinfang_reports.store`). An event the live consumer
handles after step 1 is written by both, which is the same as once; one that arrives after
step 2 is the live consumer's alone. Meanwhile the figures are those of the part rebuilt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError
from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from xinfang_shared import db, migrate
from xinfang_shared.events import BadEvent, Envelope, UnknownEventType, decode
from xinfang_shared.kafka import forbid_topic_auto_creation

from xinfang_reports import projection, store
from xinfang_reports.config import ReportsSettings
from xinfang_reports.models import items, processed_events

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5000
STALL_S = 30.0  # no record for this long while partitions are unread: the broker is stuck


@dataclass
class Counts:
    applied: int = 0  # events that made a patch
    skipped: int = 0  # events the read model does not use
    undecodable: int = 0  # no event, or data that fails its schema

    def add(self, other: Counts) -> None:
        self.applied += other.applied
        self.skipped += other.skipped
        self.undecodable += other.undecodable


@dataclass
class Summary:
    events: int  # messages read (the launcher's empty records that open partitions aside)
    applied: int
    skipped: int
    undecodable: int
    partitions: int
    rows: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        rate = self.events / self.seconds if self.seconds > 0 else None
        return {
            **asdict(self),
            "seconds": round(self.seconds, 3),
            "events_per_s": round(rate, 1) if rate is not None else None,
        }


async def apply_events(session: AsyncSession, envelopes: Iterable[Envelope]) -> Counts:
    """Write the patches of ``envelopes`` (one upsert in the caller's transaction)."""
    counts = Counts()
    patches = []
    for envelope in envelopes:
        if envelope.type not in projection.BY_TYPE:
            counts.skipped += 1
            continue
        try:
            row = projection.patch(envelope)
        except (UnknownEventType, ValidationError):
            counts.undecodable += 1
            continue
        if row is None:
            counts.skipped += 1
            continue
        patches.append(row)
        counts.applied += 1
    await store.apply(session, patches)
    return counts


async def compact(engine: AsyncEngine) -> None:
    """On PostgreSQL, rewrite the rebuilt table in the order items were received and refresh
    its statistics. A rebuild writes each row once per topic, leaving the table several times
    its size and its rows in no useful order; a period's figures then read most of it
    (bench.reports_bench: a quarterly report over 1,000,000 items took 2.3 s, 0.9–1.1 s after
    this). ``CLUSTER`` holds the table's lock while it runs (about 20 s a million items):
    the live consumer waits, the figures answer once it is done."""
    if engine.dialect.name != "postgresql":
        return
    async with engine.connect() as conn:
        await conn.execute(text("CLUSTER rpt_items USING ix_rpt_items_received_date"))
        await conn.execute(text("ANALYZE rpt_items"))
        await conn.commit()


async def reset(session: AsyncSession) -> None:
    """Every row of the read model and every processed-event mark, gone."""
    await session.execute(delete(items))
    await session.execute(delete(processed_events))


async def _partitions(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> list[TopicPartition]:
    # one metadata request for every topic. Not consumer.topics() followed by
    # consumer.partitions_for_topic(): topics() reads the metadata into a copy of its own and
    # partitions_for_topic() answers from the client's, which knows only the topics it was
    # asked about so far: a rebuild would skip topics at random.
    cluster = await consumer._client.fetch_all_metadata()
    tps = []
    for topic in topics:
        parts = cluster.partitions_for_topic(topic)
        if not parts:
            log.warning("rebuild: topic %s does not exist; nothing read from it", topic)
            continue
        tps += [TopicPartition(topic, p) for p in sorted(parts)]
    return tps


class Snapshot:
    """The values of every partition of ``topics`` from its beginning up to the end offset it
    has when :meth:`values` starts, in lists of at most ``batch``."""

    def __init__(self, servers: list[str], topics: Sequence[str], *, batch: int) -> None:
        self.servers, self.topics, self.batch = servers, topics, batch
        self.partitions = 0

    async def values(self) -> AsyncIterator[list[bytes | None]]:
        forbid_topic_auto_creation()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )
        await consumer.start()
        try:
            tps = await _partitions(consumer, self.topics)
            self.partitions = len(tps)
            if not tps:
                return
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            todo = {tp: ends[tp] for tp in tps if ends[tp] > starts[tp]}
            consumer.assign(list(todo))
            for tp in todo:
                consumer.seek(tp, starts[tp])
            async for values in self._read(consumer, todo):
                yield values
        finally:
            await consumer.stop()

    async def _read(
        self, consumer: AIOKafkaConsumer, todo: dict[TopicPartition, int]
    ) -> AsyncIterator[list[bytes | None]]:
        last_progress = time.monotonic()
        while todo:
            got = await consumer.getmany(*todo, timeout_ms=1000, max_records=self.batch)
            values: list[bytes | None] = []
            for tp, records in got.items():
                end = todo.get(tp)
                if end is None:
                    continue
                values += [r.value for r in records if r.offset < end]
                if records and records[-1].offset + 1 >= end:
                    del todo[tp]
                    consumer.pause(tp)
            if got:
                last_progress = time.monotonic()
            for tp in list(todo):
                if await consumer.position(tp) >= todo[tp]:
                    del todo[tp]
                    consumer.pause(tp)
            if not got and time.monotonic() - last_progress > STALL_S:
                raise TimeoutError(f"nothing read for {STALL_S:.0f}s; unread: {sorted(todo)}")
            if values:
                yield values


async def rebuild(
    settings: ReportsSettings,
    *,
    batch: int = DEFAULT_BATCH,
    topics: Sequence[str] = projection.TOPICS,
) -> Summary:
    """Empty the read model and build it again from ``topics`` (see the module's steps)."""
    if batch < 1:
        raise ValueError("batch must be at least 1")
    started = time.monotonic()
    await migrate.upgrade_to_head(settings.database_url, service="reports")
    engine = db.create_engine(settings.database_url, timeout_s=settings.db_timeout_s)
    sessions = db.sessionmaker(engine)
    counts, read = Counts(), 0
    snapshot = Snapshot(settings.bootstrap_list, topics, batch=batch)
    try:
        async with sessions() as session, session.begin():
            await reset(session)
        pending: list[Envelope] = []

        async def write() -> None:
            async with sessions() as session, session.begin():
                counts.add(await apply_events(session, pending))
            pending.clear()

        async for values in snapshot.values():
            for value in values:
                if value is None:
                    continue  # the launcher's record that opens a partition
                read += 1
                try:
                    pending.append(decode(value))
                except BadEvent:
                    counts.undecodable += 1
                if len(pending) >= batch:
                    await write()
        if pending:
            await write()
        await compact(engine)
        async with sessions() as session:
            rows = int(
                (await session.execute(select(func.count()).select_from(items))).scalar_one()
            )
    finally:
        await engine.dispose()
    return Summary(
        events=read,
        applied=counts.applied,
        skipped=counts.skipped,
        undecodable=counts.undecodable,
        partitions=snapshot.partitions,
        rows=rows,
        seconds=time.monotonic() - started,
    )
