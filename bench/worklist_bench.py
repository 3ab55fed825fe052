"""Worklist benchmark on PostgreSQL: prints JSON.

Seeds N cases (default 100,000) directly through SQL, all in 清河县's scope (its bureaus and
township governments, matters in its villages), each with its deadlines (an open one for every
case still being handled), then times ``GET /api/v1/worklist`` through the real app (httpx's
ASGI transport, lifespan included) with a county supervisor's token: (a) the first page in the
default sort (next deadline first), (b) a filtered search (status + category + place +
due_within), (c) a case-number prefix. Reports p50/p95 per query over ``--runs`` requests.

    uv run python -m bench.worklist_bench [--cases 100000] [--runs 60] [--pg postgresql://postgres@127.0.0.1:5432]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import socket
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa
from xinfang_shared.timeutil import local_date

UNITS = [
    "339922-zrzy",
    "339922-rsj",
    "339922-zjj",
    "339922-nyncj",
    "339922101-zf",
    "339922102-zf",
    "339922103-zf",
]
VILLAGES = [
    ("339922101201", "东岗村"),
    ("339922101202", "西岗村"),
    ("339922102201", "柳树湾村"),
    ("339922102202", "荷花塘村"),
    ("339922103201", "石门村"),
    ("339922103202", "青山村"),
]
CATEGORIES = ["land_compensation", "wages", "housing", "environment", "village_affairs", "social"]
STATUSES = ["routed"] * 3 + ["accepted"] * 4 + ["extended", "replied", "closed"]
CASE_COLUMNS = [
    "case_id",
    "case_number",
    "profile",
    "status",
    "unit_code",
    "unit_name",
    "supervising_code",
    "category",
    "received_at",
    "routed_at",
    "accepted_at",
    "extension_days",
    "repeat_count",
    "escalations",
    "backlog",
    "updated_at",
    "place_code",
    "place_name",
]
DEADLINE_COLUMNS = [
    "id",
    "case_id",
    "case_number",
    "kind",
    "label",
    "basis",
    "unit_code",
    "unit_name",
    "supervisor_code",
    "start_date",
    "due_date",
    "status",
    "met_at",
    "stage_done",
    "next_check",
    "created_at",
]


async def seed(dsn: str, n: int) -> float:
    from xinfang_shared import db, migrate
    from xinfang_supervision import models

    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(models.metadata.drop_all)
        await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()
    await migrate.upgrade_to_head(url, service="supervision")
    rnd = random.Random(16)
    now = datetime.now(UTC)
    t = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        chunk = 50_000
        for start in range(0, n, chunk):
            case_rows: list[tuple[Any, ...]] = []
            dl_rows: list[tuple[Any, ...]] = []
            for i in range(start, min(start + chunk, n)):
                cid = str(uuid.UUID(int=i + 1))
                number = f"339922-2026-{i:07d}"
                unit = UNITS[i % len(UNITS)]
                status = rnd.choice(STATUSES)
                received = now - timedelta(days=rnd.randint(0, 80), minutes=i % 1440)
                place = VILLAGES[rnd.randrange(len(VILLAGES))]
                case_rows.append(
                    (
                        cid,
                        number,
                        "national",
                        status,
                        unit,
                        unit,
                        "339922-xfj",
                        rnd.choice(CATEGORIES),
                        received,
                        received,
                        None if status == "routed" else received,
                        0,
                        1,
                        0,
                        False,
                        received,
                        place[0],
                        place[1],
                    )
                )
                start_day = local_date(received)
                notice_due = start_day + timedelta(days=15)
                open_notice = status == "routed"
                dl_rows.append(
                    (
                        str(uuid.uuid4()),
                        cid,
                        number,
                        "acceptance_notice",
                        "受理告知",
                        "A23",
                        unit,
                        unit,
                        "339922-xfj",
                        start_day,
                        notice_due,
                        "open" if open_notice else "met",
                        None if open_notice else received,
                        -1,
                        None,  # not swept here: the bench measures the worklist alone
                        received,
                    )
                )
                if status in ("accepted", "extended", "replied", "closed"):
                    handling_open = status in ("accepted", "extended")
                    dl_rows.append(
                        (
                            str(uuid.uuid4()),
                            cid,
                            number,
                            "handling",
                            "办理答复",
                            "A34",
                            unit,
                            unit,
                            "339922-xfj",
                            start_day,
                            start_day + timedelta(days=60 + (30 if status == "extended" else 0)),
                            "open" if handling_open else "met",
                            None if handling_open else now,
                            -1,
                            None,
                            received,
                        )
                    )
            await conn.copy_records_to_table("sup_cases", records=case_rows, columns=CASE_COLUMNS)
            await conn.copy_records_to_table("deadlines", records=dl_rows, columns=DEADLINE_COLUMNS)
        # what the store keeps on each case row: its first open deadline's due date
        await conn.execute(
            "UPDATE sup_cases SET next_due = (SELECT min(d.due_date) FROM deadlines d"
            " WHERE d.case_id = sup_cases.case_id AND d.status = 'open')"
        )
        await conn.execute("VACUUM ANALYZE sup_cases")
        await conn.execute("ANALYZE deadlines")
    finally:
        await conn.close()
    return time.perf_counter() - t


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def measure(dsn: str, runs: int) -> dict[str, Any]:
    from xinfang_shared.auth.models import Role
    from xinfang_shared.auth.security import Principal, issue_token
    from xinfang_supervision.config import SupervisionSettings
    from xinfang_supervision.main import create_app

    with socket.socket() as s:  # no broker: the worklist reads the database only
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://"),
        XF_AUTH_SECRET=secrets.token_urlsafe(32),  # this run's own (the demo one is refused)
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        XF_SWEEP_INTERVAL_S=3600,
    )
    app = create_app(settings)
    queries = {
        "a_first_page_default_sort": {},
        "b_filtered_status_category_place_due_within": {
            "status": "accepted",
            "category": "land_compensation",
            "place": "339922101",
            "due_within": 7,
        },
        "c_case_number_prefix": {"case_number": "339922-2026-00123"},
    }
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        rt = app.state.runtime
        who = Principal(username="qh.duban", name="督办员", role=Role.SUPERVISOR, org_code="339922")
        token = issue_token(who, secret=rt.settings.auth_secret, ttl_s=3600, now=rt.clock.now())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://bench",
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as client:
            for name, params in queries.items():
                times: list[float] = []
                total = None
                for i in range(runs + 5):
                    t = time.perf_counter()
                    r = await client.get("/api/v1/worklist", params=params)
                    elapsed = (time.perf_counter() - t) * 1000
                    assert r.status_code == 200, r.text
                    total = r.json()["total"]
                    if i >= 5:  # warm-up
                        times.append(elapsed)
                out[name] = {
                    "params": params,
                    "total": total,
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 95), 1),
                    "max_ms": round(max(times), 1),
                }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    args = ap.parse_args()
    name = "xf_bench_worklist"

    async def fresh() -> None:
        c = await asyncpg.connect(f"{args.pg}/postgres")
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.execute(f'CREATE DATABASE "{name}"')
        await c.close()

    asyncio.run(fresh())
    dsn = f"{args.pg}/{name}"
    seed_s = asyncio.run(seed(dsn, args.cases))
    result = asyncio.run(measure(dsn, args.runs))
    print(
        json.dumps(
            {
                "cases": args.cases,
                "seed_seconds": round(seed_s, 1),
                "runs_per_query": args.runs,
                "transport": "httpx ASGI (in-process, the real app and its middleware)",
                **result,
                "date": date.today().isoformat(),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
