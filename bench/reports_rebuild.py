"""The reports' rebuild write path without Kafka: prints JSON.

Makes the events of N items (a whole lifecycle each, 20 events: tests/reports_events.py), in
the order a topic-by-topic read gives them (all of one topic, then the next), writes them
into an empty read model with ``rebuild.apply_events`` in batches as the rebuild does, then
writes them all again (every row already there: the merge on conflict) and checks that the
rows did not change.

    uv run python -m bench.reports_rebuild [--items 20000] [--batch 5000] [--url sqlite+aiosqlite:///var/bench-reports.db]
    uv run python -m bench.reports_rebuild --url postgresql://postgres@127.0.0.1:5432/xf_bench_reports
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from typing import Any

from sqlalchemy import delete, func, select
from xinfang_reports import rebuild
from xinfang_reports.models import items, processed_events
from xinfang_shared import db, migrate
from xinfang_shared.events import EVENT_TYPES, Envelope

from tests.reports_events import lifecycle


def events(n: int) -> list[Envelope]:
    every = [e for i in range(n) for e in lifecycle(str(uuid.UUID(int=i + 1)), f"N-{i:08d}")]
    topics = sorted({EVENT_TYPES[e.type].TOPIC for e in every})
    by_topic = {t: [e for e in every if EVENT_TYPES[e.type].TOPIC == t] for t in topics}
    return [e for t in topics for e in by_topic[t]]


async def write_all(sessions: Any, envelopes: list[Envelope], batch: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(envelopes), batch):
        async with sessions() as session, session.begin():
            await rebuild.apply_events(session, envelopes[start : start + batch])
    return time.perf_counter() - started


async def main(url: str, n: int, batch: int) -> dict[str, Any]:
    url = db.normalise_url(url)
    await migrate.upgrade_to_head(url, service="reports")
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(items))
            await session.execute(delete(processed_events))
        envelopes = events(n)
        first = await write_all(sessions, envelopes, batch)
        async with engine.connect() as conn:
            before = [tuple(r) for r in await conn.execute(select(items).order_by(items.c.case_id))]
        again = await write_all(sessions, envelopes, batch)
        async with engine.connect() as conn:
            after = [tuple(r) for r in await conn.execute(select(items).order_by(items.c.case_id))]
            rows = (await conn.execute(select(func.count()).select_from(items))).scalar_one()
    finally:
        await engine.dispose()
    return {
        "database": engine.dialect.name,
        "items": n,
        "events": len(envelopes),
        "batch": batch,
        "rows": rows,
        "first_write_s": round(first, 2),
        "first_events_per_s": round(len(envelopes) / first),
        "again_s": round(again, 2),
        "again_events_per_s": round(len(envelopes) / again),
        "rows_unchanged_by_the_second_write": before == after,
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=20_000)
    p.add_argument("--batch", type=int, default=rebuild.DEFAULT_BATCH)
    p.add_argument("--url", default="sqlite+aiosqlite:///var/bench-reports.db")
    args = p.parse_args()
    print(json.dumps(asyncio.run(main(args.url, args.items, args.batch)), ensure_ascii=False))
