"""Workbench benchmark on PostgreSQL: prints JSON.

The whole system runs as real processes (the broker, the four services on PostgreSQL, the
workbench), with N cases (default 100,000) seeded beforehand into supervision's database, all in
清河县's scope (``bench.worklist_bench.seed``). Then, through the workbench as a browser would
(its login form, its session cookie):

- 待办 (``GET /todo``) as 清河县's supervisor, whose scope holds every seeded case: the first
  page, a filtered view (status + category + place + due within 7 days) and a case-number search;
  the time from request to the whole page (the workbench and the supervision API behind it);
- the registration round trip as 清河县's registrar: the form's post to the receipt page
  (intake's durable 201 included), each with a new petitioner.

    uv run python -m bench.workbench_bench [--cases 100000] [--runs 40] [--registrations 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import socket
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.worklist_bench import percentile, seed
from deploy.run import DEMO_USERS, SERVICES, WORKBENCH, Stack, start_stack

PG = "postgresql://postgres@127.0.0.1:5432"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
TOTAL = re.compile(r'<strong id="total">(\d+)</strong>')  # the page's "共 N 件"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def id_number(i: int) -> str:
    """A valid GB 11643 number of 清河县 (339922), born 1960–1989, the i-th of a run."""
    year = 1960 + i % 30
    first17 = f"339922{year}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    return (
        first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]
    )


def timings(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 95), 1),
        "max_ms": round(max(times), 1),
    }


async def log_in(base: str, username: str) -> httpx.AsyncClient:
    import yaml

    users = yaml.safe_load(DEMO_USERS.read_text(encoding="utf-8"))
    password = next(u["password"] for u in users if u["username"] == username)
    client = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=True)
    r = await client.post("/login", data={"username": username, "password": password})
    assert r.status_code == 200 and f"（{username}）" in r.text, r.text[:500]
    return client


async def measure_todo(base: str, runs: int) -> dict[str, Any]:
    queries = {
        "first_page": {},
        "filtered_status_category_place_due_within_7": {
            "status": "accepted",
            "category": "land_compensation",
            "place": "339922101",
            "due_within": "7",
        },
        "case_number_search": {"q": "339922-2026-00123"},
    }
    out: dict[str, Any] = {}
    client = await log_in(base, "qinghe.supervisor")
    try:
        for name, params in queries.items():
            times: list[float] = []
            shown = None
            for i in range(runs + 5):
                t = time.perf_counter()
                r = await client.get("/todo", params=params)
                elapsed = (time.perf_counter() - t) * 1000
                found = TOTAL.search(r.text)
                assert r.status_code == 200 and found, r.text[:500]
                shown = int(found.group(1))
                if i >= 5:  # warm-up
                    times.append(elapsed)
            out[name] = {"params": params, "cases_found": shown, **timings(times)}
    finally:
        await client.aclose()
    return out


async def measure_registration(base: str, n: int) -> dict[str, Any]:
    client = await log_in(base, "qinghe.registrar")
    times: list[float] = []
    try:
        page = await client.get("/register")
        token = CSRF.search(page.text)
        assert token, "no CSRF token on the registration form"
        for i in range(n):
            form = {
                "csrf": token.group(1),
                "channel": "visit",
                "receiving_office_code": "339922",
                "place.1": "339922101",
                "place.2": "339922101201",
                "category": "土地征收补偿",
                "persons": "1",
                "content": f"承包地被征收后补偿款至今未发放，请求督促落实。（第 {i} 件）",
                "petitioners.0.name": f"测试{i}",
                "petitioners.0.id_number": id_number(i),
                "petitioners.0.phone": f"139{i:08d}",
                "idem": uuid.uuid4().hex,
            }
            t = time.perf_counter()
            r = await client.post("/register", data=form)
            elapsed = (time.perf_counter() - t) * 1000
            assert r.status_code == 201 and "查询码" in r.text, (r.status_code, r.text[:800])
            times.append(elapsed)
    finally:
        await client.aclose()
    return {"registrations": n, **timings(times)}


async def databases(pg: str) -> dict[str, str]:
    names = {s: f"xf_bench_wb_{s}_{uuid.uuid4().hex[:6]}" for s in SERVICES}
    c = await asyncpg.connect(f"{pg}/postgres")
    for name in names.values():
        await c.execute(f'CREATE DATABASE "{name}"')
    await c.close()
    return {s: f"{pg}/{name}" for s, name in names.items()}


async def drop(pg: str, urls: dict[str, str]) -> None:
    c = await asyncpg.connect(f"{pg}/postgres")
    for url in urls.values():
        await c.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await c.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--registrations", type=int, default=60)
    ap.add_argument("--pg", default=PG)
    args = ap.parse_args()
    urls = asyncio.run(databases(args.pg))
    stack: Stack | None = None
    try:
        seed_s = asyncio.run(seed(urls["supervision"], args.cases))
        ports = {**{s: free_port() for s in SERVICES}, WORKBENCH: free_port()}
        var = Path(tempfile.mkdtemp(prefix="xf-bench-wb-"))
        started = time.monotonic()
        stack = start_stack(
            var,
            broker_port=free_port(),
            ports=ports,
            database_urls={
                s: u.replace("postgresql://", "postgresql+asyncpg://") for s, u in urls.items()
            },
            partitions=3,
            extra_env={"XF_INTAKE_USERS_FILE": str(DEMO_USERS), "XF_CLOCK_MODE": "manual"},
        )
        start_s = time.monotonic() - started
        base = stack.url(WORKBENCH)
        todo = asyncio.run(measure_todo(base, args.runs))
        registration = asyncio.run(measure_registration(base, args.registrations))
    finally:
        if stack is not None:
            stack.stop()
        asyncio.run(drop(args.pg, urls))
    print(
        json.dumps(
            {
                "cases_in_scope": args.cases,
                "seed_seconds": round(seed_s, 1),
                "stack_start_seconds": round(start_s, 1),
                "database": "postgresql",
                "todo_page_through_workbench": {"runs_per_query": args.runs, **todo},
                "registration_form_post_to_receipt": registration,
                "date": date.today().isoformat(),
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
