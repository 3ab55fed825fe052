"""The local process runner behind ``make run``: broker, five services, the workbench, demo data.

    python -m deploy.run            # fresh demo: embedded broker, SQLite under var/, manual clock
    python -m deploy.run --keep     # keep var/*.db from the last run
    python -m deploy.run --no-demo  # no demo petitions
    python -m deploy.run --levels 3 # a city, a county and a township, one broker (make run LEVELS=3)

Everything is configured through the same XF_* environment variables as production; this
runner only fills in the embedded defaults.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from xinfang_shared import org
from xinfang_shared.levels import Deployment

from deploy import broker

ROOT = Path(__file__).resolve().parent.parent
# reports (统计) keeps the read model of the figures, 台账 and reports from the events: the
# others never need it (the workbench's 统计 pages do)
SERVICES = {"intake": 8001, "routing": 8002, "supervision": 8003, "notify": 8004, "reports": 8005}
# the staff workbench (信访工作台): no database of its own, it calls the services' APIs
WORKBENCH = "workbench"
WORKBENCH_PORT = 8000
WITH_WORKBENCH = {**SERVICES, WORKBENCH: WORKBENCH_PORT}
DEMO_FILE = Path(__file__).with_name("demo_petitions.json")
DEMO_USERS = Path(__file__).with_name("demo_users.yaml")
# the demo mail sink (make run); not 8025: the township's reports listens there (LEVELS=3)
MAIL_PORT = 1025

Progress = Callable[[str], None]  # told each step of a start, in Chinese


def quiet(_: str) -> None:
    """Progress that tells nobody (tests, benchmarks)."""


@dataclass
class Reporter:
    """Progress for a person at a terminal: each step with the seconds since the start."""

    started: float = field(default_factory=time.monotonic)

    def __call__(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:5.1f} 秒] {text}", flush=True)


@dataclass
class Stack:
    """A running set of processes; stops them all (services first, then the broker)."""

    var: Path
    env: dict[str, str]
    ports: dict[str, int]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start_service(
        self, name: str, *, replica: str = "", port: int | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a service process; ``replica``/``port`` start one more replica of it."""
        key = f"{name}{replica}"
        env = dict(self.env)
        if port is not None:
            env[f"XF_{name.upper()}_PORT"] = str(port)
            self.ports[key] = port
        log = open(self.var / "log" / f"{key}.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", f"xinfang_{name}"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[key] = proc
        return proc

    def stop_service(self, name: str, *, kill: bool = False, timeout: float = 20) -> None:
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        if kill:
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def stop(self) -> None:
        for name in [n for n in self.procs if n != "broker"]:
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
        for name in [n for n in list(self.procs) if n != "broker"]:
            self.stop_service(name)
        self.stop_service("broker")


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def post_json(
    url: str, body: dict[str, Any], timeout: float = 10.0, *, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def ready_timeout() -> float:
    """How long ``make run`` waits for a service to answer: ``XF_RUN_READY_TIMEOUT_S``, 60 s
    unless set (the tests give more: their stacks start beside other tests on two cores)."""
    return float(os.environ.get("XF_RUN_READY_TIMEOUT_S") or 60)


def wait_healthy(
    stack: Stack,
    names: list[str],
    timeout: float | None = None,
    path: str = "/healthz",
    *,
    progress: Progress = quiet,
    label: str = "",
) -> None:
    """Wait until every service in ``names`` answers ``path``; ``progress`` is told of each."""
    wait_all([(stack, label, names)], timeout or ready_timeout(), path, progress=progress)


def wait_all(
    groups: list[tuple[Stack, str, list[str]]],
    timeout: float = 60.0,
    path: str = "/healthz",
    *,
    progress: Progress = quiet,
) -> None:
    """Wait until every service of every (stack, label, names) answers ``path``, telling
    ``progress`` of each as it does (in the order they become ready, whatever their stack)."""
    deadline = time.monotonic() + timeout
    pending = [(stack, label, name) for stack, label, names in groups for name in names]
    while pending and time.monotonic() < deadline:
        for item in list(pending):
            stack, label, name = item
            proc = stack.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"{label}{name} exited with {proc.returncode}; see {stack.var}/log/{name}.log"
                )
            try:
                get_json(stack.url(name) + path)
            except (OSError, ValueError):
                continue
            pending.remove(item)
            progress(f"{label}{name} 已就绪  {stack.url(name)}")
            if not any(s is stack for s, _, _ in pending):
                progress(f"{label}全部服务已就绪")
        if pending:
            time.sleep(0.2)
    if pending:
        late = [f"{label}{name}" for _, label, name in pending]
        raise TimeoutError(f"not healthy within {timeout}s: {late}")


def base_env(
    var: Path,
    broker_port: int,
    ports: dict[str, int],
    database_urls: dict[str, str] | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("XF_CLOCK_MODE", "manual")
    env.setdefault("XF_DEMO", "true")  # the public demo secrets are allowed here only
    # Tansu holds a consumer-group join for half the session timeout: keep it short locally.
    env.setdefault("XF_KAFKA_SESSION_TIMEOUT_S", "2")
    env.setdefault("XF_SWEEP_INTERVAL_S", "5")
    # faust's data directories (one per app id, which faust puts for {conf.name}), not in cwd
    env.setdefault("APP_DATADIR", str(var / "faust" / "{conf.name}"))
    env["XF_KAFKA_BOOTSTRAP_SERVERS"] = (
        env.get("XF_KAFKA_BOOTSTRAP_SERVERS") or f"127.0.0.1:{broker_port}"
    )
    for name, port in ports.items():
        env[f"XF_{name.upper()}_PORT"] = str(port)
        if name == WORKBENCH:
            env["XF_WORKBENCH_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
            continue
        env[f"XF_{name.upper()}_URL"] = f"http://127.0.0.1:{port}"  # where the workbench calls
        url = (database_urls or {}).get(name) or env.get(f"XF_{name.upper()}_DATABASE_URL")
        env[f"XF_{name.upper()}_DATABASE_URL"] = url or f"sqlite+aiosqlite:///{var / f'{name}.db'}"
    env.setdefault("XF_NOTIFY_AUTH_URL", f"http://127.0.0.1:{ports.get('intake', 8001)}")
    env.update(extra or {})
    return env


def start_stack(
    var: Path,
    *,
    broker_port: int = 9092,
    ports: dict[str, int] | None = None,
    database_urls: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    external_broker: bool = False,
    partitions: int = 6,
    scopes: tuple[str, ...] | None = None,
    progress: Progress = quiet,
    label: str = "",
    wait: bool = True,
) -> Stack:
    """Start the broker (unless external; its topics for the deployments rooted at ``scopes``)
    and the services; returns once every service answers its health check (``wait=False``: at
    once, the caller waits). ``progress`` is told of each step."""
    ports = ports or dict(WITH_WORKBENCH)
    (var / "log").mkdir(parents=True, exist_ok=True)
    env = base_env(var, broker_port, ports, database_urls, extra_env)
    stack = Stack(var=var, env=env, ports=ports)
    try:
        if not external_broker:
            progress(f"启动消息代理 Tansu（127.0.0.1:{broker_port}）并创建主题……")
            stack.procs["broker"] = broker.launch(
                broker_port, partitions, var / "log" / "broker.log", scopes=scopes
            )
            progress("消息代理已就绪")
        for name in ports:
            stack.start_service(name)
        progress(f"{label}启动服务 {'、'.join(ports)}……")
        if wait:
            wait_healthy(stack, list(ports), progress=progress, label=label)
    except BaseException:
        stack.stop()
        raise
    return stack


@dataclass(frozen=True)
class LevelSpec:
    """One level of a multi-level deployment: the org subtree it serves (XF_ORG_SCOPE) and the
    subtrees below it that run their own deployment (XF_ORG_LOWER_SCOPES)."""

    name: str
    label: str
    scope: str
    lower: tuple[str, ...]
    ports: dict[str, int]
    registrar: str  # the demo account that registers this level's demo petitions

    @property
    def deployment(self) -> Deployment:
        return Deployment(self.scope, self.lower)


def _ports(base: int) -> dict[str, int]:
    """A level's ports: the workbench on ``base - 1`` (8000, 8010, 8020), the services after."""
    return {WORKBENCH: base - 1, **{name: base + i for i, name in enumerate(SERVICES)}}


# make run LEVELS=3: 江临市 (city), 清河县 (county) and 柳塘乡 (township) on one broker.
THREE_LEVELS = (
    LevelSpec("city", "江临市", "339900", ("339922",), _ports(8001), "city.registrar"),
    LevelSpec("county", "清河县", "339922", ("339922102",), _ports(8011), "qinghe.registrar"),
    LevelSpec("township", "柳塘乡", "339922102", (), _ports(8021), "liutang.registrar"),
)


@dataclass
class Levels:
    """The running levels, top first; the top level's stack holds the broker."""

    specs: tuple[LevelSpec, ...]
    stacks: dict[str, Stack]

    def level_of(self, org_code: str) -> LevelSpec:
        """The level that owns ``org_code`` (registers, routes and supervises there)."""
        tree = org.default_tree()
        return next(lv for lv in self.specs if lv.deployment.owns(tree, org_code))

    def stop(self) -> None:
        for spec in reversed(self.specs):
            self.stacks[spec.name].stop()


def level_users(spec: LevelSpec, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The demo accounts a level's intake keeps: those of the units it owns."""
    tree = org.default_tree()
    return [u for u in users if spec.deployment.owns(tree, u["org_code"])]


def start_levels(
    var: Path,
    *,
    specs: tuple[LevelSpec, ...] = THREE_LEVELS,
    broker_port: int = 9092,
    external_broker: bool = False,
    database_urls: dict[str, dict[str, str]] | None = None,
    extra_env: dict[str, str] | None = None,
    partitions: int = 6,
    users: list[dict[str, Any]] | None = None,
    progress: Progress = quiet,
) -> Levels:
    """One stack per level, each with its own ports, databases (var/<level>/) and accounts,
    sharing one broker; every level's services read the shared topics in their own groups.
    Every level's services start at once (once the broker is up), then are waited for: one
    level after another took three times as long."""
    stacks: dict[str, Stack] = {}
    levels = Levels(specs=specs, stacks=stacks)
    scopes = tuple(spec.scope for spec in specs)
    try:
        for i, spec in enumerate(specs):
            lvar = var / spec.name
            lvar.mkdir(parents=True, exist_ok=True)
            users_file = lvar / "users.yaml"
            users_file.write_text(
                yaml.safe_dump(level_users(spec, users or demo_users()), allow_unicode=True),
                encoding="utf-8",
            )
            intake = f"http://127.0.0.1:{spec.ports['intake']}"
            stacks[spec.name] = start_stack(
                lvar,
                broker_port=broker_port,
                ports=dict(spec.ports),
                database_urls=(database_urls or {}).get(spec.name),
                external_broker=external_broker or i > 0,
                partitions=partitions,
                scopes=scopes,
                extra_env={
                    **(extra_env or {}),
                    "XF_ORG_SCOPE": spec.scope,
                    "XF_ORG_LOWER_SCOPES": ",".join(spec.lower),
                    "XF_INTAKE_USERS_FILE": str(users_file),
                    "XF_INTAKE_PUBLIC_URL": intake,
                    "XF_NOTIFY_AUTH_URL": intake,
                    "XF_NOTIFY_PUBLIC_URL": f"http://127.0.0.1:{spec.ports['notify']}",
                },
                progress=progress,
                label=f"【{spec.label}】",
                wait=False,
            )
        # eighteen processes starting together on a small machine: allow more than one stack
        groups = [(stacks[sp.name], f"【{sp.label}】", list(stacks[sp.name].ports)) for sp in specs]
        wait_all(groups, timeout=max(180, ready_timeout()), progress=progress)
    except BaseException:
        levels.stop()
        raise
    return levels


def login(base_url: str, username: str, password: str, timeout: float = 10.0) -> str:
    """OAuth2 password flow at intake: the access token of ``username``."""
    form = urllib.parse.urlencode({"username": username, "password": password}).encode()
    req = urllib.request.Request(base_url + "/api/v1/auth/token", data=form, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return str(json.loads(resp.read())["access_token"])


def demo_users() -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = yaml.safe_load(DEMO_USERS.read_text(encoding="utf-8"))
    return users


def load_demo(stack: Stack) -> list[dict[str, Any]]:
    """Register the demo petitions as the city's registrar (whose scope covers every office)."""
    desk = next(u for u in demo_users() if u["username"] == "city.registrar")
    token = login(stack.url("intake"), desk["username"], desk["password"])
    created = []
    for body in json.loads(DEMO_FILE.read_text(encoding="utf-8")):
        status, doc = post_json(stack.url("intake") + "/api/v1/petitions", body, token=token)
        if status != 201:
            raise RuntimeError(f"demo petition refused ({status}): {doc}")
        created.append(doc)
    return created


def load_level_demo(levels: Levels) -> list[tuple[LevelSpec, dict[str, Any]]]:
    """Register each demo petition at the level that owns its receiving office, as that level's
    registrar."""
    accounts = {u["username"]: u for u in demo_users()}
    tokens: dict[str, str] = {}
    created = []
    for body in json.loads(DEMO_FILE.read_text(encoding="utf-8")):
        spec = levels.level_of(body["receiving_office_code"])
        url = levels.stacks[spec.name].url("intake")
        if spec.name not in tokens:
            desk = accounts[spec.registrar]
            tokens[spec.name] = login(url, desk["username"], desk["password"])
        status, doc = post_json(url + "/api/v1/petitions", body, token=tokens[spec.name])
        if status != 201:
            raise RuntimeError(f"demo petition refused at {spec.name} ({status}): {doc}")
        created.append((spec, doc))
    return created


ROLE_ORDER = ("registrar", "handler", "supervisor", "leader", "admin")
ROLE_LABELS = {
    "registrar": "登记员",
    "handler": "承办人",
    "supervisor": "督办员",
    "leader": "包案领导",
    "admin": "管理员",
}


def print_accounts(users: list[dict[str, Any]], indent: str = "  ") -> None:
    """The demo accounts by role (登记员 first), each with its password and unit."""
    tree = org.default_tree()
    for role in ROLE_ORDER:
        for u in (u for u in users if u["role"] == role):
            unit = tree.units.get(u["org_code"]) or tree.department(u["org_code"])
            place = unit.name if unit is not None else u["org_code"]
            print(
                f"{indent}{ROLE_LABELS[role]:<5} {u['username']:<22} {u['password']:<24} "
                f"{u['display_name']}（{place}）"
            )


def demo_holders(
    stack: Stack, demo: list[dict[str, Any]], timeout: float = 20.0
) -> dict[str, dict[str, Any]]:
    """The body that holds each demo case, once routing has assigned them all (as supervision
    sees them, read with the city supervisor's account): case number -> its case summary."""
    desk = next(u for u in demo_users() if u["username"] == "city.supervisor")
    token = login(stack.url("intake"), desk["username"], desk["password"])
    wanted = {d["case_number"] for d in demo}
    deadline = time.monotonic() + timeout
    found: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline:
        req = urllib.request.Request(
            stack.url("supervision") + "/api/v1/cases",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(req, timeout=5) as resp:
            rows = json.loads(resp.read())
        found = {r["case_number"]: r for r in rows if r["case_number"] in wanted}
        if len(found) == len(wanted):
            break
        time.sleep(0.5)
    return found


def print_handlers(holders: dict[str, dict[str, Any]], users: list[dict[str, Any]]) -> None:
    for number, case in sorted(holders.items()):
        accounts = [
            u for u in users if u["role"] == "handler" and u["org_code"] == case["unit_code"]
        ]
        who = "、".join(f"{u['username']} / {u['password']}" for u in accounts) or "（无演示账号）"
        print(f"  {number}  {case['unit_name']:<14} 承办人 {who}")


def print_levels(levels: Levels, demo: list[tuple[LevelSpec, dict[str, Any]]]) -> None:
    users = demo_users()
    for spec in levels.specs:
        stack = levels.stacks[spec.name]
        lower = "、".join(spec.lower) or "无"
        print(f"【{spec.label}】{spec.name}  XF_ORG_SCOPE={spec.scope}  下级独立部署 {lower}")
        print(f"  {'工作台':<10} {stack.url(WORKBENCH)}   信访工作台")
        for name in SERVICES:
            print(f"  {name:<12} {stack.url(name)}")
        print(f"  {'dashboard':<12} {stack.url('notify')}/   实时预警看板")
        print_accounts(level_users(spec, users), indent="  账号 ")
        for s, d in demo:
            if s.name == spec.name:
                print(f"  信访件 {d['case_number']}  查询码 {d['query_code']}")
        print()


def run_levels(
    args: argparse.Namespace, broker_port: int, external: bool, progress: Reporter
) -> int:
    started = progress.started
    levels = start_levels(
        args.var, broker_port=broker_port, external_broker=external, progress=progress
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not args.no_demo:
            progress("登记演示信访件……")
        demo = [] if args.no_demo else load_level_demo(levels)
        if demo:
            progress(f"已登记 {len(demo)} 件演示信访件")
        print(
            f"\n三级部署已启动（{time.monotonic() - started:.1f} 秒）/ three levels up, "
            f"one broker at {levels.stacks['city'].env['XF_KAFKA_BOOTSTRAP_SERVERS']}\n"
        )
        print_levels(levels, demo)
        print("时钟（演示模式）/ move the clock:  make clock-advance DAYS=12 LEVELS=3")
        print(f"日志 / logs: {args.var}/<level>/log   停止 / stop: Ctrl-C\n", flush=True)
        while not stopping:
            for spec in levels.specs:
                for name, proc in levels.stacks[spec.name].procs.items():
                    if proc.poll() is not None:
                        print(f"{spec.name} {name} exited with {proc.returncode}", flush=True)
                        stopping = True
            time.sleep(0.5)
    finally:
        levels.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "cannot connect" while Tansu boots
    p = argparse.ArgumentParser(description="run the whole 信访 platform locally")
    p.add_argument("--keep", action="store_true", help="keep the SQLite databases of the last run")
    p.add_argument("--no-demo", action="store_true", help="do not load demo petitions")
    p.add_argument("--var", type=Path, default=ROOT / "var")
    p.add_argument(
        "--levels",
        type=int,
        choices=(1, 3),
        default=1,
        help="3: a city, a county and a township deployment sharing one broker",
    )
    args = p.parse_args(argv)

    external = bool(os.environ.get("XF_KAFKA_BOOTSTRAP_SERVERS"))
    broker_port = int(os.environ.get("XF_BROKER_PORT", "9092"))
    if not args.keep:
        # Tansu keeps nothing across restarts, so a demo starts from empty databases too.
        for f in [*args.var.glob("*.db*"), *args.var.glob("*/*.db*")]:
            f.unlink()
        shutil.rmtree(args.var / "log", ignore_errors=True)
        for spec in THREE_LEVELS:
            shutil.rmtree(args.var / spec.name / "log", ignore_errors=True)
    progress = Reporter()
    started = progress.started
    sink = None
    if not os.environ.get("XF_SMTP_HOST"):
        # the demo's mail goes to a local sink that saves it under var/mail
        from deploy import mailsink

        shutil.rmtree(args.var / "mail", ignore_errors=True)
        sink = mailsink.start(MAIL_PORT, args.var / "mail")
        os.environ.update(XF_SMTP_HOST="127.0.0.1", XF_SMTP_PORT=str(MAIL_PORT))
    if args.levels == 3:
        try:
            return run_levels(args, broker_port, external, progress)
        finally:
            if sink is not None:
                sink.stop()
    stack = start_stack(
        args.var,
        broker_port=broker_port,
        external_broker=external,
        extra_env={"XF_INTAKE_USERS_FILE": os.environ.get("XF_INTAKE_USERS_FILE", str(DEMO_USERS))},
        progress=progress,
    )
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if not args.no_demo:
            progress("登记演示信访件……")
        demo = [] if args.no_demo else load_demo(stack)
        if demo:
            progress(f"已登记 {len(demo)} 件演示信访件")
        print(f"\n信访平台已启动（{time.monotonic() - started:.1f} 秒）/ platform up\n")
        print(f"  {'工作台':<10} {stack.url(WORKBENCH)}   信访工作台：工作人员在浏览器中登录办理")
        for name in SERVICES:
            print(f"  {name:<12} {stack.url(name)}   (API docs: {stack.url(name)}/docs)")
        print(f"  {'dashboard':<12} {stack.url('notify')}/   实时预警看板")
        print(f"  {'broker':<12} {stack.env['XF_KAFKA_BOOTSTRAP_SERVERS']}")
        if sink is not None:
            print(f"  {'mail':<12} 127.0.0.1:{MAIL_PORT} → {args.var / 'mail'}/*.eml   演示邮件")
        print(f"\n演示账号 / demo accounts (工作台登录 {stack.url(WORKBENCH)}/login):")
        print_accounts(demo_users())
        if demo:
            print("\n演示信访件 / demo petitions (查询码 query codes):")
            for d in demo:
                print(
                    f"  {d['case_number']}  查询码 {d['query_code']}  "
                    f"{stack.url('intake')}/cx/{d['query_code']}"
                )
            print("\n演示信访件的承办单位与承办人账号 / who handles each demo petition:")
            print_handlers(demo_holders(stack, demo), demo_users())
        print("\n时钟（演示模式）/ move the clock:  make clock-advance DAYS=12")
        print(f"日志 / logs: {args.var / 'log'}   停止 / stop: Ctrl-C\n", flush=True)
        while not stopping:
            for name, proc in stack.procs.items():
                if proc.poll() is not None:
                    print(
                        f"{name} exited with {proc.returncode}; see {args.var}/log/{name}.log",
                        flush=True,
                    )
                    stopping = True
            time.sleep(0.5)
    finally:
        stack.stop()
        if sink is not None:
            sink.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
