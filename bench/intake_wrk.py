"""One intake replica driven by wrk (a C load generator, ``apt-get install wrk``), so that the
load generator does not take the CPU intake needs. Closed loop: ``-c`` connections each post
as fast as answers come. Prints JSON with throughput, latency percentiles and the CPU seconds
intake used. The body is an anonymous letter (``bench/wrk/post_petition.lua``).

    uv run --frozen python -m bench.intake_wrk --postgres [--connections 8,32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.alert_latency import cpu_seconds, create_databases, drop_databases, service_headers
from deploy.run import start_stack, wait_healthy
from tests.conftest import free_port

SCRIPT = Path(__file__).with_name("wrk") / "post_petition.lua"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)", text)
    assert m, text
    return round(float(m.group(1)) * UNITS[m.group(2)], 2)


def parse(out: str) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for pct in ("50", "90", "99"):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M):
            doc[f"p{pct}_ms"] = _ms(m.group(1))
    if m := re.search(r"(\d+) requests in ([\d.]+)s", out):
        doc["requests"], doc["seconds"] = int(m.group(1)), float(m.group(2))
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        doc["requests_per_s"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    doc["non_2xx"] = int(m.group(1)) if m else 0
    return doc


def main() -> None:
    ap = argparse.ArgumentParser(description="intake throughput under wrk")
    ap.add_argument("--connections", default="8,32")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument(
        "--postgres", metavar="URL", nargs="?", const="postgresql://postgres@127.0.0.1:5432"
    )
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    urls = asyncio.run(create_databases(args.postgres)) if args.postgres else None
    var = Path(tempfile.mkdtemp(prefix="xf-intake-wrk-"))
    stack = start_stack(
        var,
        broker_port=free_port(),
        ports={"intake": free_port()},
        database_urls={"intake": urls["intake"]} if urls else None,
        extra_env={"XF_LOG_LEVEL": "WARNING"},
    )
    runs = []
    try:
        wait_healthy(stack, ["intake"])
        for c in [int(x) for x in args.connections.split(",")]:
            before = cpu_seconds(stack)
            out = subprocess.run(
                [
                    *("wrk", "-t1", f"-c{c}", f"-d{args.seconds}s", "--latency"),
                    *("-s", str(SCRIPT), stack.url("intake") + "/api/v1/petitions"),
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "XF_WRK_TOKEN": service_headers()["Authorization"][7:]},
            ).stdout
            after = cpu_seconds(stack)
            run = {"connections": c, **parse(out)}
            cpu = round(after["intake"] - before["intake"], 1)
            run["intake_cpu_s"] = cpu
            ok = run["requests"] - run["non_2xx"]
            run["intake_cpu_ms_per_petition"] = round(1000 * cpu / ok, 2) if ok else None
            runs.append(run)
    finally:
        stack.stop()
        if urls and args.postgres:
            asyncio.run(drop_databases(args.postgres, urls))
        shutil.rmtree(var, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "intake_wrk",
                "database": "postgresql" if args.postgres else "sqlite",
                "cpu_count": os.cpu_count(),
                "replicas": 1,
                "runs": runs,
            },
            ensure_ascii=False,
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
