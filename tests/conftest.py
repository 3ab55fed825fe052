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

from deploy import broker as broker_launcher

pytest_plugins = ["tests.peers"]  # SMTP and HTTP provider peers for the notify tests

SERVICES = ("intake", "routing", "supervision", "notify")
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
