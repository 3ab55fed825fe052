"""The idempotent consumer core against a real database (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from xinfang_shared import db
from xinfang_shared.clock import FixedClock
from xinfang_shared.consumer import EventProcessor, HandlerContext, RawMessage
from xinfang_shared.events import CaseStatusChanged, new_event

from tests.conftest import Databases

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def make_schema() -> tuple[MetaData, Table, Table, Table]:
    md = MetaData()
    effects = Table(
        "effects", md, Column("id", Integer, primary_key=True), Column("case_id", String(36))
    )
    outbox, processed = db.messaging_tables(md)
    return md, effects, outbox, processed


def status_event(case_id: str = "case-1") -> bytes:
    data = CaseStatusChanged(
        case_id=case_id,
        case_number="n",
        old_status=None,
        new_status="accepted",
        changed_at=NOW,
        actor="t",
    )
    return new_event(data=data, source="/test", time=NOW).to_bytes()


async def setup(
    databases: Databases, handler_fails: int = 0
) -> tuple[EventProcessor, object, Table, Table]:
    md, effects, outbox, processed = make_schema()
    engine = db.create_engine(await databases.new("processor"))
    async with engine.begin() as conn:
        await conn.run_sync(md.create_all)
    calls = {"n": 0}

    async def handler(ctx: HandlerContext) -> None:
        calls["n"] += 1
        await ctx.session.execute(insert(effects).values(case_id=ctx.envelope.subject))
        if calls["n"] <= handler_fails:
            raise RuntimeError("handler bug")

    proc = EventProcessor(
        service="test",
        sessions=db.sessionmaker(engine),
        processed=processed,
        outbox=outbox,
        handlers={"case.status_changed": handler},
        clock=FixedClock(NOW),
    )
    return proc, engine, effects, outbox


async def count(engine: object, table: Table) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def test_a_redelivered_event_has_its_effect_once(databases: Databases) -> None:
    proc, engine, effects, _ = await setup(databases)
    raw = status_event()
    assert await proc.process(RawMessage("case.status_changed", 0, 1, b"case-1", raw)) == "handled"
    assert (
        await proc.process(RawMessage("case.status_changed", 0, 1, b"case-1", raw)) == "duplicate"
    )
    assert await count(engine, effects) == 1
    await engine.dispose()  # type: ignore[attr-defined]


async def test_poison_message_goes_to_the_dead_letter_topic_with_the_error(
    databases: Databases,
) -> None:
    proc, engine, effects, outbox = await setup(databases)
    outcome = await proc.process(RawMessage("case.status_changed", 2, 7, b"k", b"{not json"))
    assert outcome == "dead-lettered"
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        [row] = (await conn.execute(select(outbox))).all()
    assert row.topic == "dlq.test"
    value = row.value if isinstance(row.value, dict) else json.loads(row.value)
    assert (
        value["topic"] == "case.status_changed" and value["offset"] == 7 and value["partition"] == 2
    )
    assert value["value_text"] == "{not json" and "not JSON" in value["error"]
    assert await count(engine, effects) == 0
    # the partition moves on: the next good message is handled
    assert (
        await proc.process(RawMessage("case.status_changed", 2, 8, b"case-1", status_event()))
        == "handled"
    )
    await engine.dispose()  # type: ignore[attr-defined]


async def test_schema_violation_is_dead_lettered_not_retried(databases: Databases) -> None:
    proc, engine, _, outbox = await setup(databases)
    doc = json.loads(status_event())
    del doc["data"]["new_status"]
    assert (
        await proc.process(RawMessage("t", 0, 0, b"k", json.dumps(doc).encode())) == "dead-lettered"
    )
    assert await count(engine, outbox) == 1
    await engine.dispose()  # type: ignore[attr-defined]


async def test_a_failing_handler_is_retried_then_dead_lettered_and_its_effect_rolled_back(
    databases: Databases,
) -> None:
    proc, engine, effects, outbox = await setup(databases, handler_fails=99)
    raw = status_event()
    assert await proc.process(RawMessage("t", 0, 0, b"case-1", raw)) == "dead-lettered"
    assert await count(engine, effects) == 0  # every attempt rolled back
    assert await count(engine, outbox) == 1
    # the same event redelivered is not dead-lettered a second time
    assert await proc.process(RawMessage("t", 0, 0, b"case-1", raw)) == "duplicate"
    assert await count(engine, outbox) == 1
    await engine.dispose()  # type: ignore[attr-defined]


async def test_a_transient_handler_failure_succeeds_on_retry(databases: Databases) -> None:
    proc, engine, effects, _ = await setup(databases, handler_fails=1)
    assert await proc.process(RawMessage("t", 0, 0, b"case-1", status_event())) == "handled"
    assert await count(engine, effects) == 1
    await engine.dispose()  # type: ignore[attr-defined]


async def test_events_this_service_does_not_handle_are_ignored(databases: Databases) -> None:
    proc, engine, _, outbox = await setup(databases)
    doc = json.loads(status_event())
    doc["type"] = "case.routed"
    assert await proc.process(RawMessage("t", 0, 0, b"k", json.dumps(doc).encode())) == "ignored"
    assert await count(engine, outbox) == 0
    await engine.dispose()  # type: ignore[attr-defined]


async def test_a_record_without_a_value_is_skipped_not_dead_lettered(databases: Databases) -> None:
    # the broker launcher opens each new partition with an empty record (see deploy/broker.py)
    proc, engine, effects, outbox = await setup(databases)
    empty = RawMessage("case.status_changed", 0, 0, None, None)
    assert await proc.process(empty) == "ignored"
    await proc.process_batch([empty, RawMessage("case.status_changed", 0, 1, b"c", status_event())])
    assert await count(engine, effects) == 1
    assert await count(engine, outbox) == 0  # nothing dead-lettered
    assert proc.dead_lettered == 0
    await engine.dispose()  # type: ignore[attr-defined]
