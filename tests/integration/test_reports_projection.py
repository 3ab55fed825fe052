"""The reports' read model on a real database (SQLite, or PostgreSQL with
XF_TEST_DATABASE=postgresql) and the real broker: the batch upsert merges in SQL exactly as the
projection merges in Python, whatever the batches and their order; the running service keeps
the rows from the topics; ``xinfang-reports rebuild`` builds the same rows again."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine
from xinfang_reports import projection, rebuild, store
from xinfang_reports.config import ReportsSettings
from xinfang_reports.main import create_app
from xinfang_reports.models import items
from xinfang_shared import db, migrate
from xinfang_shared.events import EVENT_TYPES, Envelope

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.kafka_helpers import produce
from tests.reports_events import lifecycle

Row = dict[str, Any]


@asynccontextmanager
async def engine_for(url: str) -> AsyncIterator[AsyncEngine]:
    await migrate.upgrade_to_head(url, service="reports")
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def rows(engine: AsyncEngine, case_ids: list[str] | None = None) -> dict[str, Row]:
    query = select(items)
    if case_ids is not None:
        query = query.where(items.c.case_id.in_(case_ids))
    async with engine.connect() as conn:
        return {r.case_id: dict(r._mapping) for r in await conn.execute(query)}


def cases(n: int) -> tuple[list[str], list[Envelope]]:
    ids = [str(uuid.uuid4()) for _ in range(n)]
    return ids, [e for i, cid in enumerate(ids) for e in lifecycle(cid, f"339922-2026-{i:06d}")]


async def test_the_upsert_gives_the_projections_rows_whatever_the_batches_and_their_order(
    databases: Databases,
) -> None:
    ids, envelopes = cases(3)
    patches = [p for e in envelopes if (p := projection.patch(e)) is not None]
    want = projection.fold(patches)
    rng = random.Random(5)
    async with engine_for(await databases.new("reports")) as engine:
        sessions = db.sessionmaker(engine)
        for attempt in range(6):
            async with sessions() as session, session.begin():
                await session.execute(delete(items))
            order = patches + rng.choices(patches, k=10)  # some arrive twice
            rng.shuffle(order)
            size = (1, 3, 7, 20, 50, len(order))[attempt]
            for start in range(0, len(order), size):
                async with sessions() as session, session.begin():
                    written = await store.apply(session, order[start : start + size])
                    assert written == len({p["case_id"] for p in order[start : start + size]})
            assert await rows(engine) == want, f"batches of {size}"
        assert want[ids[0]]["backlog_reasons"] == "提级督办2次；超过90日未办结"
        assert want[ids[0]]["status"] == "closed" and want[ids[0]]["leader"] == "李副县长"


async def test_two_writers_at_once_reach_the_same_rows(databases: Databases) -> None:
    """The live consumer and a rebuild write the same rows concurrently (PostgreSQL: row
    locks taken in case-id order, no deadlock; SQLite: one writer at a time)."""
    _, envelopes = cases(4)
    patches = [p for e in envelopes if (p := projection.patch(e)) is not None]
    rng = random.Random(9)
    async with engine_for(await databases.new("reports")) as engine:
        sessions = db.sessionmaker(engine)

        async def writer(mine: list[projection.Patch]) -> None:
            for start in range(0, len(mine), 5):
                async with sessions() as session, session.begin():
                    await store.apply(session, mine[start : start + 5])

        first, second = list(patches), list(patches)
        rng.shuffle(first)
        rng.shuffle(second)
        await asyncio.gather(writer(first), writer(second))
        assert await rows(engine) == projection.fold(patches)


async def test_apply_events_counts_what_it_skips_and_what_it_cannot_read(
    databases: Databases,
) -> None:
    ids, envelopes = cases(1)
    broken = envelopes[0].model_copy(update={"data": {"case_id": ids[0]}})  # fails its schema
    async with engine_for(await databases.new("reports")) as engine:
        async with db.sessionmaker(engine)() as session, session.begin():
            counts = await rebuild.apply_events(session, [*envelopes, broken])
        assert (counts.applied, counts.skipped, counts.undecodable) == (len(envelopes) - 1, 1, 1)
        [row] = (await rows(engine)).values()
        assert row["case_number"] == "339922-2026-000000"


async def _rebuild_command(url: str, broker: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "XF_REPORTS_DATABASE_URL": url,
        "XF_KAFKA_BOOTSTRAP_SERVERS": broker,
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "xinfang_reports",
        "rebuild",
        "--batch",
        "7",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    summary: dict[str, Any] = json.loads(out)
    return summary


async def test_the_service_keeps_the_rows_from_the_topics_and_a_rebuild_makes_them_again(
    broker: str, databases: Databases
) -> None:
    url = await databases.new("reports")
    settings = ReportsSettings(
        XF_REPORTS_DATABASE_URL=url,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
    )
    ids, envelopes = cases(3)
    want = projection.fold(p for e in envelopes if (p := projection.patch(e)) is not None)
    app = create_app(settings)
    async with running(app) as client, engine_for(url) as engine:
        for e in envelopes:
            await produce(broker, EVENT_TYPES[e.type].TOPIC, e.to_bytes(), key=e.key)
        # a message no one can read, on the partition of the first case
        await produce(broker, "case.routed", b"\x00not an event", key=ids[0].encode())

        async def caught_up() -> bool:
            return await rows(engine, ids) == want

        await eventually(caught_up, timeout=60, interval=0.3, what="the live rows")
        ready = (await client.get("/readyz")).json()
        assert ready["consumer"] == "running" and ready["events_dead_lettered"] >= 1
        live = await rows(engine, ids)

        # rebuilt from the topics while the live service keeps running
        summary = await _rebuild_command(url, broker)
        assert summary["undecodable"] >= 1 and summary["applied"] >= len(want) * 17
        ours = [e for e in envelopes if e.type in projection.BY_TYPE]
        assert summary["events"] >= len(ours) + 1
        assert summary["partitions"] == 3 * len(projection.TOPICS)
        assert summary["rows"] >= len(ids) and summary["events_per_s"] > 0
        assert await rows(engine, ids) == live == want
