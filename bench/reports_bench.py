"""The reporting read model's benchmark on PostgreSQL: prints JSON.

1. **Build**: the events of N whole lifecycles (default 1,000,000; :mod:`bench.lifecycles`) as
   they lie on the topics, read topic by topic as ``xinfang-reports rebuild`` reads them,
   decoded and applied by the rebuild's own batch path (:func:`xinfang_reports.rebuild.apply_events`,
   one transaction per batch). Reported: events and rows, seconds and events/s of decoding and
   applying (generating the synthetic bytes is not counted).
2. **Reports**: the quarterly report (``GET /api/v1/reports/periodic``) and the summary over the
   built database through the real app (httpx's ASGI transport, lifespan and middleware), as
   the city (every item) and as one county: p50 and max over ``--runs``.
3. **Export**: a 100,000-row registration ledger as .xlsx (and as CSV), in a fresh process of
   its own so that its peak memory is the export's: seconds, bytes, peak RSS and its growth
   over the process's RSS before the request, and the rows read back with openpyxl.

    uv run python -m bench.reports_bench [--lifecycles 1000000] [--runs 5] [--export-rows 100000]
        [--pg postgresql://postgres@127.0.0.1:5432] [--database NAME] [--reuse]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import sqlalchemy as sa

from bench import lifecycles

DB = "xf_bench_reports"


def _rss_mb() -> float:
    """This process's resident memory now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fresh_database(pg: str, name: str = DB) -> str:
    c = await asyncpg.connect(f"{pg}/postgres")
    await c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await c.execute(f'CREATE DATABASE "{name}"')
    await c.close()
    return f"{pg}/{name}".replace("postgresql://", "postgresql+asyncpg://")


async def build(url: str, n: int, batch: int) -> dict[str, Any]:
    from xinfang_reports import rebuild
    from xinfang_shared import db, events, migrate

    await migrate.upgrade_to_head(url, service="reports")
    engine = db.create_engine(url, timeout_s=600)
    sessions = db.sessionmaker(engine)
    applied = 0.0
    count = 0
    for _topic, values in lifecycles.events_by_topic(n):
        for lo in range(0, len(values), batch):
            t = time.perf_counter()
            envelopes = [events.decode(raw) for raw in values[lo : lo + batch]]
            async with sessions() as session, session.begin():
                await rebuild.apply_events(session, envelopes)
            applied += time.perf_counter() - t
            count += len(envelopes)
    t = time.perf_counter()
    await rebuild.compact(engine)  # what the rebuild command does last
    compact_s = time.perf_counter() - t
    async with engine.connect() as conn:
        rows = (await conn.execute(sa.text("SELECT count(*) FROM rpt_items"))).scalar_one()
    await engine.dispose()
    return {
        "lifecycles": n,
        "events": count,
        "rows": rows,
        "decode_and_apply_seconds": round(applied, 1),
        "events_per_second": round(count / applied),
        "batch": batch,
        "compact_seconds": round(compact_s, 1),
    }


def _app(url: str) -> Any:
    from xinfang_reports.config import ReportsSettings
    from xinfang_reports.main import create_app

    with socket.socket() as s:  # no broker: the figures read the database only
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = ReportsSettings(
        XF_REPORTS_DATABASE_URL=url,
        XF_AUTH_SECRET=secrets.token_urlsafe(32),  # this run's own (the demo one is refused)
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
    )
    return create_app(settings)


def _token(app: Any, org_code: str) -> str:
    from xinfang_shared.auth.models import Role
    from xinfang_shared.auth.security import Principal, issue_token

    rt = app.state.runtime
    who = Principal(username="bench.duban", name="督办员", role=Role.SUPERVISOR, org_code=org_code)
    return issue_token(who, secret=rt.settings.auth_secret, ttl_s=3600, now=rt.clock.now())


async def reports(url: str, runs: int) -> dict[str, Any]:
    app = _app(url)
    queries = {
        "quarterly_report": (
            "/api/v1/reports/periodic",
            {"period": "quarter", "year": 2026, "number": 3},
        ),
        "annual_report": ("/api/v1/reports/periodic", {"period": "year", "year": 2026}),
        "summary_quarter": ("/api/v1/stats/summary", {"from": "2026-07-01", "to": "2026-09-30"}),
    }
    out: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        for scope, code in (("city", "339900"), ("county", "339922")):
            headers = {"Authorization": f"Bearer {_token(app, code)}"}
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=headers, timeout=600
            ) as client:
                for name, (path, params) in queries.items():
                    times: list[float] = []
                    items = None
                    for i in range(runs + 1):
                        t = time.perf_counter()
                        r = await client.get(path, params=params)
                        elapsed = (time.perf_counter() - t) * 1000
                        assert r.status_code == 200, r.text[:500]
                        doc = r.json()  # a periodic report lists its figures as "summary"
                        figures = doc["summary"] if "summary" in doc else doc["figures"]
                        items = next((f["value"] for f in figures if f["key"] == "items"), None)
                        if i >= 1:  # the first one warms the connection pool and caches
                            times.append(elapsed)
                    out[f"{scope}_{name}"] = {
                        "items_in_period": items,
                        "p50_ms": round(statistics.median(times), 1),
                        "max_ms": round(max(times), 1),
                    }
    return out


async def period_with(url: str, rows: int) -> tuple[date, date, int]:
    """The shortest period from the first day with at least ``rows`` items."""
    from xinfang_shared import db

    engine = db.create_engine(url)
    async with engine.connect() as conn:
        by_day = (
            await conn.execute(
                sa.text(
                    "SELECT received_date, count(*) FROM rpt_items "
                    "GROUP BY received_date ORDER BY received_date"
                )
            )
        ).all()
    await engine.dispose()
    total = 0
    first = by_day[0][0]
    for day, count in by_day:
        total += count
        if total >= rows:
            return first, day, total
    return first, by_day[-1][0], total


async def export(url: str, start: date, end: date, fmt: str) -> dict[str, Any]:
    """Run in a process of its own (``export`` sub-command): one export, its memory."""
    app = _app(url)
    async with app.router.lifespan_context(app):
        headers = {"Authorization": f"Bearer {_token(app, '339900')}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers, timeout=600
        ) as client:
            await client.get("/api/v1/stats/summary")  # warm: pool, caches, imports
            before = _rss_mb()
            target = Path(tempfile.mkdtemp()) / f"ledger.{fmt}"
            t = time.perf_counter()
            params = {"from": start.isoformat(), "to": end.isoformat()}
            async with client.stream("GET", f"/api/v1/ledger/items.{fmt}", params=params) as r:
                assert r.status_code == 200, (await r.aread())[:500]
                with target.open("wb") as f:
                    async for chunk in r.aiter_bytes():
                        f.write(chunk)
            seconds = time.perf_counter() - t
    peak = _peak_rss_mb()
    size = target.stat().st_size
    if fmt == "xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(target, read_only=True).worksheets[0]
        data_rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    else:
        with target.open(encoding="utf-8-sig") as f:
            data_rows = sum(1 for _ in f) - 1
    target.unlink()
    return {
        "format": fmt,
        "rows": data_rows,
        "seconds": round(seconds, 2),
        "bytes": size,
        "rss_before_mb": round(before, 1),
        "peak_rss_mb": round(peak, 1),
        "peak_growth_mb": round(peak - before, 1),
    }


def _export_in_child(url: str, start: date, end: date, fmt: str) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "bench.reports_bench", "export", url, str(start), str(end), fmt]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(out.stdout + out.stderr)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "export":
        url, start, end, fmt = sys.argv[2:6]
        result = asyncio.run(export(url, date.fromisoformat(start), date.fromisoformat(end), fmt))
        print(json.dumps(result))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--lifecycles", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--export-rows", type=int, default=100_000)
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    ap.add_argument(
        "--reuse", action="store_true", help="time the reports over the database built last time"
    )
    ap.add_argument("--database", default=DB, help="the benchmark's own database (dropped first)")
    args = ap.parse_args()
    if args.reuse:
        url = f"{args.pg}/{args.database}".replace("postgresql://", "postgresql+asyncpg://")
        built: dict[str, Any] = {"reused": args.database}
    else:
        url = asyncio.run(fresh_database(args.pg, args.database))
        built = asyncio.run(build(url, args.lifecycles, args.batch))
        print(json.dumps({"build": built}), file=sys.stderr, flush=True)
    figures = asyncio.run(reports(url, args.runs))
    start, end, rows = asyncio.run(period_with(url, args.export_rows))
    exports = [_export_in_child(url, start, end, fmt) for fmt in ("xlsx", "csv")]
    print(
        json.dumps(
            {
                "database": "PostgreSQL",
                "build": built,
                "reports": figures,
                "export_period": {"from": str(start), "to": str(end), "items": rows},
                "exports": exports,
                "date": date.today().isoformat(),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
