"""For the workbench's browser tests: the whole system with the workbench and the demo accounts,
a Chromium at an office screen's size (1366×768), logging in through the workbench's form, and
screenshots of what a person sees (``XF_SCREENSHOT_DIR``, default ``var/screenshots``)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from deploy.run import ROOT, SERVICES, WORKBENCH, Stack
from tests.conftest import Databases
from tests.e2e.stacks import CHROMIUM_ARGS, DEMO_USERS_ENV, demo_account, launched

SCREEN = {"width": 1366, "height": 768}
SCREENSHOTS = Path(os.environ.get("XF_SCREENSHOT_DIR") or ROOT / "var" / "screenshots")
WITH_WORKBENCH = (*SERVICES, WORKBENCH)


@asynccontextmanager
async def workbench_stack(
    tmp_path: Path, databases: Databases, extra_env: dict[str, str] | None = None
) -> AsyncIterator[Stack]:
    """The broker, the five services and the workbench, with the demo accounts."""
    async with launched(
        tmp_path, databases, {**DEMO_USERS_ENV, **(extra_env or {})}, services=WITH_WORKBENCH
    ) as stack:
        yield stack


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Headless Chromium (Debian's); skipped where it is absent, except in CI."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install chromium (see .ci/run)")
        pytest.skip("Chromium is not installed (.ci/run installs it with apt-get)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        # in Chinese, as an office's browser: its own controls (date pickers, file choosers) too
        browser = await pw.chromium.launch(
            executable_path=exe,
            args=[*CHROMIUM_ARGS, "--lang=zh-CN"],
            env={**os.environ, "LANGUAGE": "zh_CN"},
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Any) -> Any:
    """A page of its own (its own cookies: one person at one desk)."""
    context = await browser.new_context(viewport=SCREEN, locale="zh-CN")
    page = await context.new_page()
    page.set_default_timeout(15_000)
    return page


async def log_in(page: Any, base_url: str, username: str, *, path: str = "/") -> None:
    """Open ``path`` on the workbench, log in on the form it shows as a demo account, and wait
    until the page says who is logged in."""
    account = demo_account(username)
    await page.goto(base_url + path)
    await page.get_by_label("用户名").fill(username)
    await page.get_by_label("密码").fill(account["password"])
    await page.get_by_role("button", name="登录").click()
    await page.locator(".who-name", has_text=f"（{username}）").wait_for()


async def shot(page: Any, name: str) -> Path:
    """Save what the page shows now as ``<name>.png`` (the whole page, 1366 wide)."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
