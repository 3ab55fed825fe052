"""Fixtures shared by every test layer.

The database is SQLite by default; ``XF_TEST_DATABASE=postgresql`` runs the same tests against
the PostgreSQL server at 127.0.0.1:5432 (``XF_TEST_POSTGRES_URL`` to change), creating one
fresh database per service for the run and dropping it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from xinfang_shared.settings import CommonSettings
from xinfang_shared.topics import all_topics

from deploy import broker as broker_launcher

pytest_plugins = ["tests.peers"]  # SMTP and HTTP provider peers for the notify tests

SERVICES = ("intake", "routing", "supervision", "notify", "reports")
DB_KIND = os.environ.get("XF_TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("XF_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real broker (Tansu), every topic created; yields its bootstrap address."""
    port = free_port()
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    proc: subprocess.Popen[bytes] = broker_launcher.launch(port, 3, log)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


GROUP_SUFFIX_ENV = "XF_KAFKA_GROUP_SUFFIX"


async def _start_groups_at_end(servers: str, groups: list[str]) -> None:
    """Commit the current end of every event topic for ``groups``: they read only what comes
    after (a new group would otherwise read the whole session's history from the start)."""
    specs = [s for s in all_topics(3) if not s.name.endswith("-changelog")]
    tps = [TopicPartition(s.name, p) for s in specs for p in range(s.partitions)]

    async def one(group: str) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=servers, group_id=group, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            await consumer.commit({tp: off for tp, off in ends.items()})
        finally:
            await consumer.stop()

    await asyncio.gather(*(one(g) for g in groups))


@pytest.fixture(autouse=True)
async def own_consumer_groups(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every test on the shared broker reads in consumer groups of its own, starting at the
    current end: a group a finished test left behind (Tansu may keep a departed leader for a
    while) cannot hold up the next test's consumers. Apps of one test share its groups."""
    if "broker" not in request.fixturenames:
        return
    servers: str = request.getfixturevalue("broker")
    suffix = f"-t{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(GROUP_SUFFIX_ENV, suffix)
    scope = CommonSettings().org_scope
    await _start_groups_at_end(servers, [f"xinfang-{s}-{scope}{suffix}" for s in SERVICES])


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(f"{PG_URL}/postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class Databases:
    """Hands out a fresh database URL per (test, service); cleans up PostgreSQL ones."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.created: list[str] = []

    async def new(self, service: str) -> str:
        if DB_KIND == "postgresql":
            name = f"xf_test_{service}_{uuid.uuid4().hex[:10]}"
            await _pg_admin(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            return f"postgresql+asyncpg://{PG_URL.split('://', 1)[1]}/{name}"
        return f"sqlite+aiosqlite:///{self.tmp / f'{service}-{uuid.uuid4().hex[:8]}.db'}"

    async def drop_all(self) -> None:
        for name in self.created:
            await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[Databases]:
    dbs = Databases(tmp_path)
    try:
        yield dbs
    finally:
        await dbs.drop_all()


async def eventually(
    check: Callable[[], object], *, timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> object:
    """Poll ``check`` (sync or async) until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: object = None
    while loop.time() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}; last={last!r}")


def pytest_configure(config: pytest.Config) -> None:
    """The tests run in demo mode: the services may start on the public demo secrets
    (XF_DEMO; without it a service refuses to). A test about that switch unsets it."""
    os.environ.setdefault("XF_DEMO", "true")
    # the end-to-end stacks start while another worker runs its tests (make test -n 2): wait
    # for a service longer than make run does on an idle machine
    os.environ.setdefault("XF_RUN_READY_TIMEOUT_S", "180")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``-n`` (pytest-xdist, as ``make test`` runs): a module's tests stay together on one
    worker, in their order, and the end-to-end tests all run on one worker, one stack at a time
    (each starts a dozen processes: two stacks at once on two cores starve each other)."""
    for item in items:
        group = "e2e" if item.get_closest_marker("e2e") else item.nodeid.split("::", 1)[0]
        if "/e2e/" in item.nodeid:
            group = "e2e"
        item.add_marker(pytest.mark.xdist_group(group))
