"""Deadline sweep benchmark on PostgreSQL: prints JSON.

Loads N open deadlines (default 1,000,000) with their cases, of which D (default 10,000) are due
for a reminder, overdue notice or escalation today; then, in a fresh process, times ONE sweep
that finds every due deadline and writes its notice and event (outbox, same transaction), and
reports that process's peak memory.

    uv run python -m bench.sweep_bench [--deadlines 1000000] [--due 10000] [--pg postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg
import sqlalchemy as sa
from xinfang_shared.timeutil import local_date


async def load(dsn: str, n: int, due: int) -> float:
    from xinfang_shared import db, migrate
    from xinfang_supervision import models

    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = db.create_engine(url)
    async with engine.begin() as conn:  # from empty, as a new deployment starts
        await conn.run_sync(models.metadata.drop_all)
        await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()
    await migrate.upgrade_to_head(url, service="supervision")
    conn = await asyncpg.connect(dsn)
    t = time.perf_counter()
    now = datetime.now(UTC)
    today = local_date(now)
    units = ["339922-zrzy", "339922102-zf", "339902-sthj", "339900-rsj", "339922101-zf"]
    try:
        chunk = 100_000
        for start in range(0, n, chunk):
            case_rows, dl_rows = [], []
            for i in range(start, min(start + chunk, n)):
                cid = str(uuid.UUID(int=i + 1))
                unit = units[i % len(units)]
                is_due = i % (n // due) == 0 if due else False
                due_date = (
                    today + timedelta(days=3) if is_due else today + timedelta(days=10 + i % 50)
                )
                next_check = (
                    due_date - timedelta(days=7) if not is_due else today - timedelta(days=1)
                )
                stage = 0 if is_due else -1  # due ones: the 7-day reminder sent, the 3-day one due
                case_rows.append(
                    (
                        cid,
                        f"339922-2026-{i:07d}",
                        "national",
                        "accepted",
                        unit,
                        unit,
                        "339922-xfj",
                        None,
                        now,
                        now,
                        now,
                        None,
                        None,
                        None,
                        0,
                        None,
                        1,
                        0,
                        False,
                        None,
                        now,
                    )
                )
                dl_rows.append(
                    (
                        str(uuid.uuid4()),
                        cid,
                        f"339922-2026-{i:07d}",
                        "handling",
                        "办理答复",
                        "A34",
                        unit,
                        unit,
                        "339922-xfj",
                        today - timedelta(days=30),
                        due_date,
                        "open",
                        None,
                        stage,
                        next_check,
                        now,
                    )
                )
            await conn.copy_records_to_table("sup_cases", records=case_rows)
            await conn.copy_records_to_table("deadlines", records=dl_rows)
        await conn.execute("ANALYZE sup_cases; ANALYZE deadlines")
    finally:
        await conn.close()
    return time.perf_counter() - t


async def sweep_once(dsn: str) -> dict[str, object]:
    from xinfang_supervision.config import SupervisionSettings
    from xinfang_supervision.main import bootstrap

    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://")
    )
    sup = bootstrap(settings)
    runtime, sweeper, sc = sup.runtime, sup.sweeper, sup.context
    async with runtime.engine.connect():
        pass  # open the pool before timing
    sweeper._backlog_checked = local_date(runtime.clock.now())
    t = time.perf_counter()
    examined = await sweeper.sweep_once()
    elapsed = time.perf_counter() - t
    emitted = sc.stats["notices"]
    await runtime.engine.dispose()
    return {
        "sweep_seconds": round(elapsed, 3),
        "deadlines_examined": examined,
        "notices_emitted": emitted,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


async def count_open(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM deadlines WHERE status = 'open'"))
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deadlines", type=int, default=1_000_000)
    ap.add_argument("--due", type=int, default=10_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--sweep-only", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--load-only", action="store_true", help="load the data, do not sweep")
    args = ap.parse_args()
    if args.sweep_only:
        print(json.dumps(asyncio.run(sweep_once(args.sweep_only))))
        return
    name = "xf_bench_sweep"

    async def fresh() -> None:
        c = await asyncpg.connect(f"{args.pg}/postgres")
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.execute(f'CREATE DATABASE "{name}"')
        await c.close()

    asyncio.run(fresh())
    dsn = f"{args.pg}/{name}"
    load_s = asyncio.run(load(dsn, args.deadlines, args.due))
    if args.load_only:
        print(json.dumps({"loaded": args.deadlines, "load_seconds": round(load_s, 1)}))
        return
    out = subprocess.run(
        [sys.executable, "-m", "bench.sweep_bench", "--sweep-only", dsn],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        json.dumps(
            {
                "open_deadlines": asyncio.run(count_open(dsn)),
                "due_today": args.due,
                "load_seconds": round(load_s, 1),
                **result,
                "date": date.today().isoformat(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
