"""Alert latency under load: prints JSON.

With a background load of ordinary petitions (default 200/s, open loop), a collective visit
(集体访, persons 7-30) is registered every ``duration/alerts`` seconds; the latency of an alert
is the time from its POST returning 201 to the first notification frame for that case arriving
on one SSE client of notify. Target: p99 < 1 s. The whole stack (broker and the four services)
runs as real processes with SQLite in a temporary directory, on free ports.

    uv run --frozen python -m bench.alert_latency [--rate 200] [--duration 30] [--alerts 60]
                                                   [--warmup 5] [--workers 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from xinfang_shared.auth.security import service_token
from xinfang_shared.events import CollectiveAlert
from xinfang_shared.settings import CommonSettings

from bench.petitions import make
from deploy.run import SERVICES, Stack, start_stack
from tests.conftest import free_port

TARGET_P99_MS = 1000.0
MATTER = "339922101201"  # 清河县清河镇东岗村


def service_headers() -> dict[str, str]:
    """A service account's token for the whole tree (the stack runs on the default secret):
    every API call names its caller."""
    token = service_token(
        "bench", secret=CommonSettings().auth_secret, ttl_s=10 * 365 * 86400, org_code="339900"
    )
    return {"Authorization": f"Bearer {token}"}


def log(msg: str) -> None:
    print(f"[alert_latency] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (with 30 samples, p99 is the maximum)."""
    if not values:
        return None
    s = sorted(values)
    return round(s[max(0, math.ceil(p / 100 * len(s)) - 1)], 1)


def ordinary_body(rng: random.Random) -> dict[str, Any]:
    p = make(rng)
    who = p.petitioners[0]
    return {
        "channel": p.channel,
        "petitioners": [{"name": who.name, "phone": who.phone}],
        "persons": 1,
        "receiving_office_code": p.receiving_office_code,
        "matter_address": p.matter_address,
        "content": p.content,
    }


def collective_body(rng: random.Random) -> dict[str, Any]:
    persons = rng.randint(7, 30)
    names = [ordinary_body(rng)["petitioners"][0] for _ in range(min(persons, 3))]
    return {
        "channel": "visit",
        "petitioners": names,
        "persons": persons,
        "receiving_office_code": "339922",
        "matter_location_code": MATTER,
        "matter_address": "清河县清河镇东岗村",
        "title": f"{persons}名村民集体反映征地补偿款未发放",
        "content": f"东岗村{persons}户村民的承包地被征收用于工业园区建设，补偿款至今未发放到位，"
        "多次向村委会和镇政府反映无果，今天集体来访，请求县里督促落实。",
    }


@dataclass
class Run:
    first_frame: dict[str, float] = field(default_factory=dict)  # alert case_id -> perf_counter
    frames: int = 0
    reconnects: int = 0
    accepted: int = 0
    errors: int = 0
    backlog: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)
    bg_latency: list[float] = field(default_factory=list)
    alert_returned: dict[str, float] = field(default_factory=dict)  # case_id -> perf_counter
    alert_post_ms: list[float] = field(default_factory=list)
    alert_errors: int = 0


def wait_consumers(stack: Stack, timeout: float = 120.0) -> None:
    """Every service ready (database and broker) and its consumer "running"."""
    deadline = time.monotonic() + timeout
    pending = list(SERVICES)
    with httpx.Client(timeout=5) as client:
        while pending:
            for name in list(pending):
                try:
                    doc = client.get(stack.url(name) + "/readyz").json()
                except (httpx.HTTPError, ValueError):
                    continue
                if doc.get("status") == "ready" and doc.get("consumer", "running") == "running":
                    pending.remove(name)
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"consumers not running within {timeout}s: {pending}")
            time.sleep(0.2)


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """User + system CPU seconds so far of this process and every stack process (Linux)."""
    out = {"load_generator": time.process_time()}
    for name, proc in stack.procs.items():
        try:
            stat = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            out[name] = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass
    return out


async def sse_client(url: str, run: Run, connected: asyncio.Event) -> None:
    """One SSE client; reconnects with Last-Event-ID if notify drops it (slow consumer)."""
    last_id: str | None = None
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(10, read=None), headers=service_headers()
    ) as client:
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                async with client.stream("GET", url, headers=headers) as resp:
                    resp.raise_for_status()
                    connected.set()
                    event = None
                    async for line in resp.aiter_lines():
                        if line.startswith("id: "):
                            last_id = line[4:]
                        elif line.startswith("event: "):
                            event = line[7:]
                        elif line.startswith("data: ") and event == "notification":
                            now = time.perf_counter()
                            run.frames += 1
                            doc = json.loads(line[6:])
                            # only the alert's own frames (not e.g. a later 越级访 for the case)
                            kind = doc.get("source_event_type", CollectiveAlert.TYPE)
                            if doc.get("case_id") and kind == CollectiveAlert.TYPE:
                                run.first_frame.setdefault(doc["case_id"], now)
                        elif not line:
                            event = None
            except httpx.HTTPError as exc:
                log(f"SSE stream ended ({type(exc).__name__}); reconnecting")
            run.reconnects += 1
            await asyncio.sleep(0.2)


async def background(intake: str, run: Run, rate: float, seconds: float, workers: int) -> float:
    """Open loop: request i is due at t0 + i/rate and whichever of ``workers`` is free sends
    it. Requests still queued when the window ends are not sent (``run.backlog``). Returns the
    time from t0 to the last response."""
    rng = random.Random(7)
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)

    async def worker(client: httpx.AsyncClient) -> None:
        client_id = f"bench-{id(asyncio.current_task())}"  # one registrar desk per worker
        while (body := await queue.get()) is not None:
            t = time.perf_counter()
            try:
                resp = await client.post(
                    intake + "/api/v1/petitions", json=body, headers={"X-Client-Id": client_id}
                )
                kind = None if resp.status_code == 201 else f"HTTP {resp.status_code}"
            except httpx.HTTPError as exc:
                kind = type(exc).__name__
            if kind is None:
                run.accepted += 1
                run.bg_latency.append((time.perf_counter() - t) * 1000)
            else:
                run.errors += 1
                run.error_kinds[kind] = run.error_kinds.get(kind, 0) + 1

    async with httpx.AsyncClient(timeout=30, limits=limits, headers=service_headers()) as client:
        tasks = [asyncio.create_task(worker(client)) for _ in range(workers)]
        t0 = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            queue.put_nowait(ordinary_body(rng))
        await asyncio.sleep(max(0.0, t0 + seconds - time.perf_counter()))  # end of the window
        while not queue.empty():
            queue.get_nowait()
            run.backlog += 1
        for _ in tasks:
            queue.put_nowait(None)
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0


async def alerts(intake: str, run: Run, n: int, start: float, interval: float) -> None:
    rng = random.Random(11)
    async with httpx.AsyncClient(timeout=30, headers=service_headers()) as client:
        for k in range(n):
            delay = start + k * interval - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t = time.perf_counter()
            try:
                resp = await client.post(intake + "/api/v1/petitions", json=collective_body(rng))
                done = time.perf_counter()
                if resp.status_code != 201 or not resp.json().get("collective"):
                    raise ValueError(f"HTTP {resp.status_code}: {resp.text[:200]}")
            except (httpx.HTTPError, ValueError) as exc:
                run.alert_errors += 1
                log(f"alert POST failed: {type(exc).__name__} {exc}")
                continue
            run.alert_returned[resp.json()["case_id"]] = done
            run.alert_post_ms.append((done - t) * 1000)


async def measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    run = Run()
    connected = asyncio.Event()
    sse = asyncio.create_task(sse_client(stack.url("notify") + "/api/v1/stream", run, connected))
    try:
        await asyncio.wait_for(connected.wait(), 15)
        log(f"SSE connected; load {args.rate}/s for {args.warmup + args.duration}s")
        cpu0, t0 = cpu_seconds(stack), time.perf_counter()
        interval = args.duration / args.alerts
        load = asyncio.create_task(
            background(
                stack.url("intake"), run, args.rate, args.warmup + args.duration, args.workers
            )
        )
        await alerts(stack.url("intake"), run, args.alerts, t0 + args.warmup, interval)
        elapsed = await load
        if dead := [n for n, p in stack.procs.items() if p.poll() is not None]:
            raise RuntimeError(f"exited during the run: {dead}; see {stack.var}/log/")
        cpu = {k: round(v - cpu0.get(k, 0.0), 1) for k, v in cpu_seconds(stack).items()}
        log(f"load done: {run.accepted} accepted, {run.errors} errors in {elapsed:.1f}s")
        for _ in range(int(args.straggler_wait * 10)):  # stragglers
            if run.alert_returned.keys() <= run.first_frame.keys():
                break
            await asyncio.sleep(0.1)
    finally:
        sse.cancel()
        await asyncio.gather(sse, return_exceptions=True)
    lat = [
        (run.first_frame[c] - t) * 1000
        for c, t in run.alert_returned.items()
        if c in run.first_frame
    ]
    # a negative value would mean the frame overtook the POST response (still on time)
    p99 = pct(lat, 99)
    sent = len(run.alert_returned) + run.alert_errors
    return {
        "benchmark": "alert_latency",
        "settings": {
            **{k: v for k, v in vars(args).items() if k != "keep_var"},
            "alert_interval_s": round(interval, 3),
            "database": "postgresql" if args.postgres else "sqlite",
            "clock": stack.env.get("XF_CLOCK_MODE"),
            "collective_threshold": int(stack.env.get("XF_COLLECTIVE_THRESHOLD", "5")),
        },
        "cpu_count": os.cpu_count(),
        "background": {
            "target_rate": args.rate,
            "achieved_rate": round(run.accepted / elapsed, 1),
            "accepted": run.accepted,
            "errors": run.errors,
            "error_kinds": run.error_kinds,
            "due_but_not_sent": run.backlog,
            "post_p50_ms": pct(run.bg_latency, 50),
            "post_p99_ms": pct(run.bg_latency, 99),
        },
        "alerts": {
            "sent": sent,
            "post_failed": run.alert_errors,
            "received": len(lat),
            "missing": sent - len(lat),
            "p50_ms": pct(lat, 50),
            "p90_ms": pct(lat, 90),
            "p99_ms": p99,
            "max_ms": round(max(lat), 1) if lat else None,
        },
        "post_latency_ms": {"p50": pct(run.alert_post_ms, 50), "p99": pct(run.alert_post_ms, 99)},
        # CPU seconds each process used during the load window (``elapsed`` seconds long)
        "cpu_s_during_load": {"window_s": round(elapsed, 1), **cpu},
        "sse": {"frames": run.frames, "reconnects": run.reconnects},
        "target_p99_ms": TARGET_P99_MS,
        "met": p99 is not None and p99 < TARGET_P99_MS and sent == len(lat),
    }


def interrupt(signum: int, _frame: object) -> None:
    # Not asyncio.run's own SIGINT handling: it only cancels the main task, and a cancel that
    # lands inside an httpx request can be swallowed, so the run would carry on. Later signals
    # (uv forwards Ctrl-C once more) are ignored so that nothing interrupts stopping the stack.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt(signal.Signals(signum).name)


async def create_databases(server: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(f"{server}/postgres")
    urls = {}
    try:
        for name in SERVICES:
            db = f"xf_bench_{name}_{os.getpid()}"
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}"')
            await conn.execute(f'CREATE DATABASE "{db}"')
            urls[name] = f"postgresql+asyncpg://{server.split('://', 1)[1]}/{db}"
    finally:
        await conn.close()
    return urls


async def drop_databases(server: str, urls: dict[str, str]) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{server}/postgres")
    try:
        for url in urls.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--rate", type=float, default=200.0, help="background petitions per second")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of alerts after warm-up")
    ap.add_argument("--alerts", type=int, default=60, help="collective visits in --duration")
    ap.add_argument("--warmup", type=float, default=5.0, help="seconds of load before alerts")
    ap.add_argument("--workers", type=int, default=32, help="concurrent load connections")
    ap.add_argument("--straggler-wait", type=float, default=10.0)
    ap.add_argument("--keep-var", action="store_true", help="keep logs and databases")
    ap.add_argument(
        "--postgres",
        metavar="URL",
        nargs="?",
        const="postgresql://postgres@127.0.0.1:5432",
        help="use PostgreSQL (one fresh database per service, dropped afterwards)",
    )
    args = ap.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "cannot connect" while Tansu boots

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    var = Path(tempfile.mkdtemp(prefix="xf-alert-bench-"))
    ok = False
    started = time.monotonic()
    log(f"starting the stack under {var}")
    urls = asyncio.run(create_databases(args.postgres)) if args.postgres else None
    stack = start_stack(
        var,
        broker_port=free_port(),
        ports={name: free_port() for name in SERVICES},
        database_urls=urls,
        extra_env={"XF_CLOCK_MODE": "manual", "XF_KAFKA_SESSION_TIMEOUT_S": "2"},
    )
    try:
        wait_consumers(stack)
        start_s = round(time.monotonic() - started, 1)
        log(f"stack healthy, consumers running after {start_s}s")
        result = asyncio.run(measure(stack, args))
        result["stack_start_s"] = start_s
        print(json.dumps(result, ensure_ascii=False, indent=2))
        ok = True
    finally:
        log("stopping the stack")
        stack.stop()
        if urls:
            asyncio.run(drop_databases(args.postgres, urls))
        if ok and not args.keep_var:
            shutil.rmtree(var, ignore_errors=True)
        else:
            log(f"logs and databases kept in {var}/")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
