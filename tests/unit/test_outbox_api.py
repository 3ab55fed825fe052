"""One way into the outbox (xinfang_shared.db.UnitOfWork): an event goes out on its payload's
topic, keyed by its subject; a dead letter is JSON with Chinese kept readable; nothing is
written when the block fails; and no service writes outbox rows by any other path."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, select
from xinfang_shared import db
from xinfang_shared.events import CaseStatusChanged, new_event

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


async def test_events_and_messages_reach_the_outbox_when_the_block_ends(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    meta = MetaData()
    outbox, _ = db.messaging_tables(meta)
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    sessions = db.sessionmaker(engine)
    change = CaseStatusChanged(
        case_id="c-1",
        case_number="XF-1",
        old_status="registered",
        new_status="accepted",
        changed_at=NOW,
        actor="县信访局",
        note="受理",
    )
    envelope = new_event(data=change, source="test", time=NOW)
    async with sessions() as session, session.begin():
        async with db.UnitOfWork(session) as uow:
            uow.emit(outbox, envelope, now=NOW)
            uow.emit_message(
                outbox,
                message_id="dlq-1",
                topic="dlq.test",
                key="c-1",
                value={"错误": "坏"},
                now=NOW,
            )
    with pytest.raises(RuntimeError):
        async with sessions() as session, session.begin():
            async with db.UnitOfWork(session) as uow:
                uow.emit(outbox, new_event(data=change, source="test", time=NOW), now=NOW)
                raise RuntimeError("the handler failed")
    async with sessions() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.id))).all()
    await engine.dispose()
    assert [(r.event_id, r.topic, r.key) for r in rows] == [
        (envelope.id, CaseStatusChanged.TOPIC, "c-1"),
        ("dlq-1", "dlq.test", "c-1"),
    ]
    assert json.loads(rows[0].value)["data"]["note"] == "受理"
    assert rows[1].value == '{"错误": "坏"}'
    assert rows[0].created_at == NOW and rows[0].published_at is None


def test_no_service_writes_outbox_rows_but_through_the_unit_of_work() -> None:
    """``insert(outbox)`` anywhere but xinfang_shared.db is a second way in."""
    offenders = []
    for path in [*ROOT.glob("services/*/src/**/*.py"), *ROOT.glob("shared/src/**/*.py")]:
        if path.name == "db.py" and path.parent.name == "xinfang_shared":
            continue
        if re.search(r"insert\(\s*(self\.)?_?outbox\b", path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
