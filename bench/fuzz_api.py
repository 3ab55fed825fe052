"""Schema fuzzing of the five services (schemathesis: all checks, stateful testing included).

    uv run python -m bench.fuzz_api                    # SQLite, a few minutes
    uv run python -m bench.fuzz_api --postgres         # PostgreSQL at 127.0.0.1:5432
    uv run python -m bench.fuzz_api --max-time 20 --services intake,routing

Starts the broker and the five services as real processes (deploy.run.start_stack, demo accounts
seeded), logs in demo accounts of several roles, and runs ``st run <service>/openapi.json
--checks all --phases examples,coverage,fuzzing,stateful`` once per (service, role) with that
role's Bearer token, each run bounded by ``--max-time`` (and killed if it overstays). Prints one
JSON document: per service the requests made, the 5xx answers, the status codes an operation
answered that its schema does not document, failures per check and a few reproduction lines.
Only 127.0.0.1 is ever targeted. The raw reports (HAR of every request, schemathesis's JSON
report) stay in --report-dir.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.run import (
    DEMO_USERS,
    SERVICES,
    Stack,
    demo_users,
    get_json,
    load_demo,
    login,
    start_stack,
)

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgresql://postgres@127.0.0.1:5432"
# one account per role; each (service, role) is a run of its own with that role's token
ROLES = ("admin", "registrar", "handler", "supervisor", "leader")
# the roles each service is fuzzed as by default (the first also runs the examples and
# coverage phases): the roles whose operations the service has
SERVICE_ROLES = {
    "intake": ("admin", "registrar", "handler"),
    "routing": ("admin", "supervisor", "handler"),
    "supervision": ("supervisor", "leader", "handler"),
    "notify": ("admin", "leader", "handler"),
    # every staff role reads the figures; a handler's are its own unit's
    "reports": ("supervisor", "leader", "handler"),
}
ACCOUNTS = {
    "admin": "city.admin",
    "registrar": "city.registrar",
    "handler": "qinghe.zrzy",
    "supervisor": "city.supervisor",
    "leader": "city.leader",
}
# intake's admin runs change and disable accounts (the demo accounts' passwords too): intake
# goes last, and its admin runs after its other roles', so that every run can still log in
ACCOUNT_CHANGERS = ("intake",)
COVERAGE_PHASES = "examples,coverage"  # deterministic: every operation's boundaries once
FUZZ_PHASES = "fuzzing,stateful"  # random cases, then sequences along the schema's links
REPRO_LIMIT = 8


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- databases -------------------------------------------------------------------------------


async def _pg(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(f"{PG_URL}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def postgres_databases() -> dict[str, str]:
    """A fresh PostgreSQL database per service (dropped by :func:`drop_databases`)."""
    urls = {}
    for name in SERVICES:
        db = f"xf_fuzz_{name}_{uuid.uuid4().hex[:8]}"
        asyncio.run(_pg(f'CREATE DATABASE "{db}"'))
        urls[name] = f"postgresql+asyncpg://{PG_URL.split('://', 1)[1]}/{db}"
    return urls


def drop_databases(urls: dict[str, str]) -> None:
    for url in urls.values():
        db = url.rsplit("/", 1)[1]
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


# --- one schemathesis run --------------------------------------------------------------------


@dataclass
class Run:
    service: str
    role: str
    exit_code: int | None
    seconds: float
    timed_out: bool
    entries: list[dict[str, Any]] = field(default_factory=list)  # HAR entries
    report: dict[str, Any] = field(default_factory=dict)  # schemathesis's JSON report
    stdout_tail: str = ""
    curls: list[str] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)  # schemathesis's failures
    phases: str = ""


def st_command(
    schema_url: str,
    token: str | None,
    report_dir: Path,
    args: argparse.Namespace,
    phases: str,
    max_time: int,
) -> list[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent)) or "st"
    cmd = [
        st,
        "--no-color",
        "run",
        schema_url,
        "--checks",
        "all",
        "--phases",
        phases,
        "--max-time",
        str(max_time),
        "--max-examples",
        str(args.max_examples),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--continue-on-failure",
        "--suppress-health-check",
        "all",
        "--report",
        "har,json",
        "--report-dir",
        str(report_dir),
        "--warnings",
        "off",
        "--generation-database",
        "none",
        # exact reproductions (passwords, bodies); tokens are taken out of what is printed
        "--output-sanitize",
        "false",
    ]
    if args.seed is not None:
        cmd += ["--seed", str(args.seed)]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    return cmd


def run_schemathesis(
    service: str,
    role: str,
    base: str,
    token: str | None,
    out: Path,
    args: argparse.Namespace,
    *,
    phases: str,
    max_time: int,
) -> Run:
    report_dir = out / f"{service}-{role}-{phases.replace(',', '+')}"
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    cmd = st_command(f"{base}/openapi.json", token, report_dir, args, phases, max_time)
    started = time.monotonic()
    timed_out = False
    # the run's own --max-time bounds it; this bounds a run that overstays (shrinking, a hang)
    with open(report_dir / "stdout.txt", "wb") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=report_dir, start_new_session=True
        )
        try:
            code: int | None = proc.wait(max_time * 2 + 60)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            code = None
    run = Run(service, role, code, round(time.monotonic() - started, 1), timed_out)
    run.phases = phases
    for har in report_dir.glob("har-*.json"):
        run.entries += json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    for rep in report_dir.glob("json-*.json"):
        run.report = json.loads(rep.read_text(encoding="utf-8"))
    text = (report_dir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    run.stdout_tail = text[-3000:]
    run.curls = curl_lines(text)
    run.cases = failure_cases(text)
    return run


# --- what the runs found ---------------------------------------------------------------------


def documented_statuses(schema: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(METHOD, path template) -> the response codes its schema documents ("default" too)."""
    out: dict[tuple[str, str], set[str]] = {}
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                out[(method.upper(), path)] = set(op["responses"])
    return out


def _template_regex(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{body}$")


def match_operation(
    method: str, path: str, ops: dict[tuple[str, str], set[str]]
) -> tuple[str, str] | None:
    """The operation a concrete request path belongs to (templates with fewer parameters first,
    so ``/cases/overdue`` wins over ``/cases/{id}``)."""
    candidates = [k for k in ops if k[0] == method]
    candidates.sort(key=lambda k: k[1].count("{"))
    for key in candidates:
        if _template_regex(key[1]).match(path):
            return key
    return None


def _body_snippet(entry: dict[str, Any], limit: int = 160) -> str:
    post = entry["request"].get("postData") or {}
    text = str(post.get("text") or "")
    return text[:limit] + ("…" if len(text) > limit else "")


def _repro(entry: dict[str, Any], base: str) -> dict[str, Any]:
    req, resp = entry["request"], entry["response"]
    url = str(req["url"])
    return {
        "method": req["method"],
        "path": url[len(base) :] if url.startswith(base) else url,
        "body": _body_snippet(entry),
        "status": resp["status"],
        "answer": str((resp.get("content") or {}).get("text") or "")[:200],
    }


def failures_per_check(report: dict[str, Any]) -> Counter[str]:
    """Failures per check from schemathesis's JSON report (``ST103 Undocumented status code``)."""
    counts: Counter[str] = Counter()
    for failure in report.get("failures") or []:
        counts[f"{failure.get('code', '?')} {failure.get('title', '?')}"] += int(
            failure.get("count") or 1
        )
    return counts


_CURL = re.compile(r"^\s*(curl .*)$", re.MULTILINE)
_TOKEN = re.compile(r"Bearer [A-Za-z0-9._-]+")


def curl_lines(stdout: str) -> list[str]:
    """schemathesis's own "Reproduce with" lines (tokens filtered)."""
    return [_TOKEN.sub("Bearer …", m) for m in _CURL.findall(stdout)]


_OPERATION = re.compile(r"^_{3,} (.+?) _{3,}$")
_CHECK = re.compile(r"^- (ST\d+ .+)$")
_STATUS = re.compile(r"^\[(\d{3})\] ")


def failure_cases(stdout: str) -> list[dict[str, Any]]:
    """schemathesis's failures section, one item per failing test case: the operation, the
    checks it failed, the status answered and the curl lines that reproduce it (a stateful
    case has one per step; the last one is the step that failed)."""
    cases: list[dict[str, Any]] = []
    checks: list[str] = []
    operation, status = "", 0
    for raw in stdout.splitlines():
        line = raw.strip()
        if m := _OPERATION.match(line):
            operation, checks, status = m.group(1), [], 0
        elif m := _CHECK.match(line):
            checks.append(m.group(1))
        elif m := _STATUS.match(line):
            status = int(m.group(1))
        elif line.startswith("curl "):
            curl = _TOKEN.sub("Bearer …", line)
            if checks:
                case = {"operation": operation, "checks": checks, "status": status, "curl": [curl]}
                cases.append(case)
                checks, status = [], 0
            elif operation and cases and cases[-1]["operation"] == operation:
                cases[-1]["curl"].append(curl)  # the next step of a stateful case
        elif line.startswith("st replay "):
            operation = ""  # this case's reproduction ends here
    return cases


def summarize(service: str, base: str, schema: dict[str, Any], runs: list[Run]) -> dict[str, Any]:
    ops = documented_statuses(schema)
    requests = 0
    statuses: Counter[int] = Counter()
    server_errors: list[dict[str, Any]] = []
    undocumented: dict[str, list[dict[str, Any]]] = {}
    checks: Counter[str] = Counter()
    for run in runs:
        checks.update(failures_per_check(run.report))
        for entry in run.entries:
            url = str(entry["request"]["url"])
            if not url.startswith(base):
                continue
            requests += 1
            status = int(entry["response"]["status"])
            statuses[status] += 1
            repro = {"role": run.role, **_repro(entry, base)}
            if status >= 500:
                server_errors.append(repro)
            path = url[len(base) :].split("?", 1)[0]
            op = match_operation(entry["request"]["method"], path, ops)
            if op is None or status == 0:
                continue
            codes = ops[op]
            if (
                str(status) not in codes
                and f"{status // 100}XX" not in codes
                and ("default" not in codes)
            ):
                undocumented.setdefault(f"{op[0]} {op[1]} → {status}", []).append(repro)
    return {
        "requests": requests,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "server_errors": len(server_errors),
        "server_error_examples": _distinct(server_errors)[:REPRO_LIMIT],
        "undocumented_statuses": {k: len(v) for k, v in sorted(undocumented.items())},
        "undocumented_examples": [v[0] for _, v in sorted(undocumented.items())][:REPRO_LIMIT],
        "failures_per_check": dict(sorted(checks.items())),
        "failures": _distinct_cases([{"role": r.role, **c} for r in runs for c in r.cases]),
        "runs": [
            {
                "role": r.role,
                "phases": r.phases,
                "exit_code": r.exit_code,
                "seconds": r.seconds,
                "timed_out": r.timed_out,
                "requests": len(r.entries),
            }
            for r in runs
        ],
    }


def _distinct_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One failing case per (operation, checks, status)."""
    seen: set[tuple[str, str, int]] = set()
    out = []
    for c in cases:
        key = (c["operation"], ",".join(c["checks"]), c["status"])
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _distinct(repros: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str, int]] = set()
    out = []
    for r in repros:
        key = (r["method"], re.sub(r"[0-9A-Za-z_-]{8,}", "…", r["path"].split("?")[0]), r["status"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


# --- main ------------------------------------------------------------------------------------


def tokens(stack: Stack, roles: tuple[str, ...]) -> dict[str, str]:
    accounts = {u["username"]: u for u in demo_users()}
    out = {}
    for role in roles:
        user = accounts[ACCOUNTS[role]]
        out[role] = login(stack.url("intake"), user["username"], user["password"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="schemathesis over the five services")
    p.add_argument("--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432")
    p.add_argument("--services", default=",".join(SERVICES))
    p.add_argument("--roles", default="", help="roles for every service (default: per service)")
    p.add_argument("--coverage-time", type=int, default=30, help="s, examples+coverage run")
    p.add_argument("--max-time", type=int, default=20, help="s, fuzzing+stateful run per role")
    p.add_argument("--max-examples", type=int, default=25, help="per operation and phase")
    p.add_argument("--budget", type=int, default=900, help="s in all; later runs are skipped")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--report-dir", type=Path, default=ROOT / "var" / "fuzz")
    p.add_argument("--output", type=Path, default=None, help="also write the JSON here")
    args = p.parse_args(argv)
    services = [s for s in args.services.split(",") if s]
    chosen = tuple(r for r in args.roles.split(",") if r)
    unknown = [s for s in services if s not in SERVICES] + [r for r in chosen if r not in ACCOUNTS]
    if unknown:
        p.error(f"unknown services or roles: {unknown}")

    started = time.monotonic()
    deadline = started + args.budget
    var = Path(tempfile.mkdtemp(prefix="xf-fuzz-"))
    databases = postgres_databases() if args.postgres else {}
    result: dict[str, Any] = {
        "database": "postgresql" if args.postgres else "sqlite",
        "command": "uv run python -m bench.fuzz_api "
        + " ".join(sys.argv[1:] if argv is None else argv),
        "schemathesis": _st_version(),
        "checks": "all",
        "runs_per_service": f"{COVERAGE_PHASES} ({args.coverage_time} s, first role), then "
        f"{FUZZ_PHASES} ({args.max_time} s) per role",
        "max_examples": args.max_examples,
        "accounts": dict(ACCOUNTS),
        "services": {},
        "skipped_runs": [],
    }
    stack = None
    try:
        stack = start_stack(
            var,
            broker_port=free_port(),
            ports={name: free_port() for name in SERVICES},
            database_urls=databases,
            partitions=1,
            extra_env={"XF_INTAKE_USERS_FILE": str(DEMO_USERS), "XF_CLOCK_MODE": "manual"},
        )
        # the demo petitions, so that lists and reports have something in them
        result["demo_cases"] = len(load_demo(stack))
        time.sleep(5)  # routed and under supervision
        for service in sorted(services, key=lambda s: s in ACCOUNT_CHANGERS):
            base = stack.url(service)
            schema = get_json(base + "/openapi.json", timeout=10)
            roles = chosen or SERVICE_ROLES[service]
            plan = [(roles[0], COVERAGE_PHASES, args.coverage_time)]
            plan += [(role, FUZZ_PHASES, args.max_time) for role in roles]
            if service in ACCOUNT_CHANGERS:
                plan.sort(key=lambda run: run[0] == "admin")
            runs = []
            for role, phases, max_time in plan:
                if time.monotonic() + max_time > deadline:
                    result["skipped_runs"].append(f"{service}/{role}/{phases}")
                    continue
                # a fresh token per run: an earlier run may have logged its account out
                token: str | None
                try:
                    token = tokens(stack, (role,))[role]
                except (OSError, urllib.error.HTTPError, KeyError) as exc:
                    print(f"{service}/{role}: login failed ({exc}); no token", file=sys.stderr)
                    token = None
                print(f"fuzzing {service} as {role}: {phases} ({max_time} s)", file=sys.stderr)
                runs.append(
                    run_schemathesis(
                        service,
                        role,
                        base,
                        token,
                        args.report_dir,
                        args,
                        phases=phases,
                        max_time=max_time,
                    )
                )
            result["services"][service] = summarize(service, base, schema, runs)
        result["totals"] = {
            "requests": sum(s["requests"] for s in result["services"].values()),
            "server_errors": sum(s["server_errors"] for s in result["services"].values()),
            "undocumented_statuses": sum(
                sum(s["undocumented_statuses"].values()) for s in result["services"].values()
            ),
        }
    finally:
        if stack is not None:
            stack.stop()
        if databases:
            drop_databases(databases)
        if not os.environ.get("XF_FUZZ_KEEP_VAR"):
            shutil.rmtree(var, ignore_errors=True)
    result["seconds"] = round(time.monotonic() - started, 1)
    doc = json.dumps(result, ensure_ascii=False, indent=1)
    print(doc)
    if args.output:
        args.output.write_text(doc + "\n", encoding="utf-8")
    return 0


def _st_version() -> str:
    try:
        from importlib.metadata import version

        return version("schemathesis")
    except Exception:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
