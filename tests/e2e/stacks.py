"""Start the real system (broker and the five services as separate processes) for e2e tests."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from xinfang_shared.settings import CommonSettings

from deploy.run import DEMO_USERS, SERVICES, WORKBENCH, Stack, demo_users, start_stack
from tests.apps import service_token_for_tests
from tests.conftest import Databases, free_port

PARTITIONS = 3  # of every topic of a test stack


@asynccontextmanager
async def launched(
    tmp_path: Path,
    databases: Databases,
    extra_env: dict[str, str] | None = None,
    services: tuple[str, ...] = SERVICES,
) -> AsyncIterator[Stack]:
    urls = {name: await databases.new(name) for name in services if name != WORKBENCH}
    ports = {name: free_port() for name in services}
    started = time.monotonic()
    s = await asyncio.to_thread(
        start_stack,
        tmp_path / "var",
        broker_port=free_port(),
        ports=ports,
        database_urls=urls,
        partitions=PARTITIONS,
        extra_env={
            "XF_CLOCK_MODE": "manual",
            "XF_KAFKA_SESSION_TIMEOUT_S": "2",
            **(extra_env or {}),
        },
    )
    print(json.dumps({"stack_started_s": round(time.monotonic() - started, 2)}))
    try:
        yield s
    finally:
        procs = {n: p for n, p in s.procs.items() if n != "broker"}
        await asyncio.to_thread(s.stop)
        # graceful shutdown: on SIGTERM every service ran its shutdown and exited by itself
        # (uvicorn re-raises the signal after a clean shutdown, hence -15 rather than 0)
        for name, proc in procs.items():
            log = (s.var / "log" / f"{name}.log").read_text()
            assert proc.returncode in (0, -15), (name, proc.returncode, log[-2000:])
            assert "Application shutdown complete." in log, (name, log[-2000:])


async def sse_frames(
    client: httpx.AsyncClient, url: str, sink: list[dict[str, Any]], ready: asyncio.Event
) -> None:
    try:
        async with client.stream("GET", url) as resp:
            ready.set()
            event = None
            async for line in resp.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "notification":
                    sink.append(json.loads(line[6:]))
    except httpx.HTTPError:
        pass  # the stream ends when the services stop


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@asynccontextmanager
async def browser_page() -> AsyncIterator[Any]:
    """A page in headless Chromium (Debian's). Skipped where Chromium is absent, except in CI."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: install chromium (see .ci/run)")
        pytest.skip("Chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


def auth_headers() -> dict[str, str]:
    """A service account's token for the whole tree, signed with the stack's (default) secret."""
    return {"Authorization": f"Bearer {service_token_for_tests(CommonSettings())}"}


def demo_account(username: str) -> dict[str, str]:
    """A demo account from deploy/demo_users.yaml (seeded when intake has
    XF_INTAKE_USERS_FILE=deploy/demo_users.yaml, as ``make run`` does)."""
    return next(u for u in demo_users() if u["username"] == username)


async def log_in_to_dashboard(page: Any, url: str, username: str, password: str) -> None:
    """Open a dashboard ``url`` in the browser: it shows the login form first; fill it in and
    wait until the dashboard (back at ``url``) says who is logged in."""
    await page.goto(url)
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(password)
    await page.get_by_role("button", name="登录").click()
    await page.locator("#user", has_text=f"（{username}）").wait_for(timeout=15_000)


DEMO_USERS_ENV = {"XF_INTAKE_USERS_FILE": str(DEMO_USERS)}  # the demo accounts, seeded
