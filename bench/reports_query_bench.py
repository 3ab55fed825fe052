"""Reports benchmark on PostgreSQL: prints JSON.

Seeds N read-model rows (default 1,000,000 items) straight into ``rpt_items`` through COPY:
the whole demo city (both counties, every village and body), received over the ``--days``
before 2026-12-01 (default two years) in the order received (as the consumer and a rebuild
write them), with the usual mix (channels, visits with persons,
collective visits, repeats, decisions in and out of time, replies, overdue, 督办, backlog).
Then times, through the real app (httpx's ASGI transport, lifespan included), the quarter
2026 Q3 for a county supervisor (清河县) and the city's leader (江临市, no scope condition):
the summary (every figure and last year's), breakdowns by category and by month, the
periodic quarterly report (JSON and .xlsx), the ledger's first page, and a ledger export
(.csv and .xlsx) of one month. Reports p50 / max per request over ``--runs``.

    uv run python -m bench.reports_query_bench [--items 1000000] [--days 730] [--runs 5] [--pg postgresql://postgres@127.0.0.1:5432]
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

END = date(2026, 12, 1)
CHANNELS = (
    ["letter"] * 30 + ["visit"] * 30 + ["phone"] * 15 + ["online"] * 20 + ["leader_mailbox"] * 5
)
KINDS = ["申诉求决"] * 8 + ["建议意见"] + ["检举控告"]
CATEGORIES = [
    ("land_compensation", "征地补偿"),
    ("wages", "拖欠工资"),
    ("housing", "住房保障"),
    ("environment", "环境污染"),
    ("village_affairs", "村务管理"),
    ("social", "社会保障"),
    ("education", "教育"),
    ("health", "医疗卫生"),
    ("police", "治安"),
    ("discipline", "违纪违法"),
]
COLUMNS = [
    "case_id",
    "case_number",
    "received_at",
    "received_date",
    "channel",
    "persons",
    "collective",
    "anonymous",
    "informant_sealed",
    "petitioners",
    "receiving_office_code",
    "receiving_office_name",
    "title",
    "summary",
    "place_code",
    "place_name",
    "category",
    "category_name",
    "kind",
    "skip_level",
    "legal_channel",
    "handling_code",
    "handling_name",
    "repeat_match",
    "status",
    "status_label",
    "decided_date",
    "decision",
    "accept_due",
    "replied_at",
    "replied_date",
    "reply_due",
    "extended",
    "closed_date",
    "outcome",
    "overdue",
    "supervised",
    "escalations",
    "leader",
    "backlog",
    "backlog_date",
    "backlog_reasons",
    "collective_alert",
]


def _row(
    i: int, n: int, rnd: random.Random, days: int, places: list[Any], bodies: dict[str, list[Any]]
) -> tuple[Any, ...]:
    # in the order they were received, as the live consumer and a rebuild write them
    received = END - timedelta(days=days - (i * days) // n)
    at = datetime(received.year, received.month, received.day, 2, i % 60, tzinfo=UTC)
    place = rnd.choice(places)
    county = place.code[:6]
    handling = rnd.choice(bodies[county])
    channel = rnd.choice(CHANNELS)
    collective = channel == "visit" and rnd.random() < 0.05
    persons = rnd.randint(5, 30) if collective else (rnd.randint(1, 3) if channel == "visit" else 1)
    category, category_name = rnd.choice(CATEGORIES)
    decided = rnd.random() < 0.9
    accept_due = received + timedelta(days=15)
    decided_on = received + timedelta(days=rnd.randint(1, 20))
    decided_date = decided_on if decided else None
    decision = ("accepted" if rnd.random() < 0.85 else "not_accepted") if decided else None
    reply_due = decided_on + timedelta(days=60) if decision == "accepted" else None
    replied = decision == "accepted" and rnd.random() < 0.8
    replied_on = decided_on + timedelta(days=rnd.randint(5, 75))
    replied_date = replied_on if replied else None
    closed = replied_on + timedelta(days=10) if replied and rnd.random() < 0.7 else None
    backlog = rnd.random() < 0.03
    repeat = rnd.random()
    return (
        str(uuid.UUID(int=i + 1)),
        f"{county}-{received.year}-{i:07d}",
        at,
        received,
        channel,
        persons,
        collective,
        False,
        False,
        "张三、李四",
        county,
        "信访局",
        "事项标题",
        "信访事项的内容摘要，共三百字以内。",
        place.code,
        place.name,
        category,
        category_name,
        rnd.choice(KINDS),
        rnd.random() < 0.02,
        False,
        handling.code,
        handling.name,
        "重复信访" if repeat < 0.15 else ("一信多投" if repeat < 0.2 else None),
        "closed" if closed else ("replied" if replied else "accepted"),
        "已办结" if closed else ("已答复" if replied else "办理中"),
        decided_date,
        decision,
        accept_due,
        datetime(replied_on.year, replied_on.month, replied_on.day, 3, tzinfo=UTC)
        if replied
        else None,
        replied_date,
        reply_due,
        False,
        closed,
        "已答复" if replied else None,
        rnd.random() < 0.1,
        rnd.random() < 0.05,
        1 if rnd.random() < 0.03 else 0,
        "王副县长" if backlog else None,
        backlog,
        received + timedelta(days=90) if backlog else None,
        "超期未办结" if backlog else None,
        collective,
    )


async def seed(dsn: str, n: int, days: int) -> float:
    from xinfang_reports import models
    from xinfang_shared import db, migrate, org

    url = dsn.replace("postgresql://", "postgresql+asyncpg://")
    engine = db.create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(models.metadata.drop_all)
        await conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    await engine.dispose()
    await migrate.upgrade_to_head(url, service="reports")
    tree = org.default_tree()
    places = [u for u in tree.units.values() if len(u.code) >= 9]
    bodies: dict[str, list[Any]] = {}
    for county in ("339902", "339922"):
        bodies[county] = [d for d in tree.departments.values() if d.unit.startswith(county)] + [
            u for u in tree.units.values() if u.code.startswith(county) and len(u.code) == 9
        ]
    rnd = random.Random(17)
    t = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        chunk = 50_000
        for start in range(0, n, chunk):
            rows = [
                _row(i, n, rnd, days, places, bodies) for i in range(start, min(start + chunk, n))
            ]
            await conn.copy_records_to_table("rpt_items", records=rows, columns=COLUMNS)
        await conn.execute("VACUUM ANALYZE rpt_items")
    finally:
        await conn.close()
    return time.perf_counter() - t


async def measure(dsn: str, runs: int) -> dict[str, Any]:
    from xinfang_reports.config import ReportsSettings
    from xinfang_reports.main import create_app
    from xinfang_shared.auth.models import Role
    from xinfang_shared.auth.security import Principal, issue_token

    with socket.socket() as s:  # no broker: the reports read the database only
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ReportsSettings(
        XF_REPORTS_DATABASE_URL=dsn.replace("postgresql://", "postgresql+asyncpg://"),
        XF_AUTH_SECRET=secrets.token_urlsafe(32),
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
    )
    app = create_app(settings)
    q3 = {"from": "2026-07-01", "to": "2026-09-30"}
    month = {"from": "2026-09-01", "to": "2026-09-30"}
    queries: dict[str, tuple[str, dict[str, Any]]] = {
        "summary_q3": ("/api/v1/stats/summary", q3),
        "breakdown_category_q3": ("/api/v1/stats/breakdown", {**q3, "by": "category"}),
        "breakdown_month_year": (
            "/api/v1/stats/breakdown",
            {"from": "2026-01-01", "to": "2026-11-30", "by": "month"},
        ),
        "periodic_q3": (
            "/api/v1/reports/periodic",
            {"period": "quarter", "year": 2026, "number": 3},
        ),
        "periodic_q3_xlsx": (
            "/api/v1/reports/periodic.xlsx",
            {"period": "quarter", "year": 2026, "number": 3},
        ),
        "ledger_first_page_q3": ("/api/v1/ledger/items", q3),
        "export_csv_one_month": ("/api/v1/ledger/items.csv", month),
        "export_xlsx_one_month": ("/api/v1/ledger/items.xlsx", month),
    }
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        rt = app.state.runtime
        transport = httpx.ASGITransport(app=app)
        for who in (
            Principal(username="qh.duban", name="督办员", role=Role.SUPERVISOR, org_code="339922"),
            Principal(username="city.leader", name="领导", role=Role.LEADER, org_code="339900"),
        ):
            token = issue_token(
                who, secret=rt.settings.auth_secret, ttl_s=3600, now=datetime.now(UTC)
            )
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://bench",
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            ) as client:
                results: dict[str, Any] = {}
                for name, (path, params) in queries.items():
                    times: list[float] = []
                    size = 0
                    for i in range(runs + 1):
                        t = time.perf_counter()
                        r = await client.get(path, params=params)
                        elapsed = (time.perf_counter() - t) * 1000
                        assert r.status_code == 200, r.text[:300]
                        size = len(r.content)
                        if i >= 1:  # one warm-up
                            times.append(elapsed)
                    entry: dict[str, Any] = {
                        "p50_ms": round(statistics.median(times), 1),
                        "max_ms": round(max(times), 1),
                        "bytes": size,
                    }
                    if name == "summary_q3":
                        entry["items"] = next(
                            f["value"] for f in r.json()["figures"] if f["key"] == "items"
                        )
                    if name.startswith("export_csv"):
                        entry["rows"] = r.content.count(b"\r\n") - 1
                    results[name] = entry
                out[f"{who.username} ({who.org_code})"] = results
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument("--keep", action="store_true", help="reuse the seeded database")
    args = ap.parse_args()
    name = "xf_bench_reports_query"  # not the rebuild bench's database

    async def fresh() -> None:
        c = await asyncpg.connect(f"{args.pg}/postgres")
        await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await c.execute(f'CREATE DATABASE "{name}"')
        await c.close()

    dsn = f"{args.pg}/{name}"
    seed_s = None
    if not args.keep:
        asyncio.run(fresh())
        seed_s = round(asyncio.run(seed(dsn, args.items, args.days)), 1)
    result = asyncio.run(measure(dsn, args.runs))
    print(
        json.dumps(
            {
                "items": args.items,
                "days": args.days,
                "seed_seconds": seed_s,
                "runs_per_request": args.runs,
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
