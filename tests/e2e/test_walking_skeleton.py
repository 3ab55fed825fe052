"""End to end: the real broker and the five real services as separate processes, exactly as
``make run`` starts them; one petition from registration to a deadline reminder on the SSE
stream after the system clock moves 12 days."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.run import SERVICES, Stack
from tests.conftest import Databases, eventually
from tests.e2e.stacks import (
    DEMO_USERS_ENV,
    auth_headers,
    browser_page,
    demo_account,
    launched,
    log_in_to_dashboard,
    sse_frames,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def stack(tmp_path: Path, databases: Databases) -> AsyncIterator[Stack]:
    async with launched(tmp_path, databases, DEMO_USERS_ENV) as s:
        yield s


async def _browser_text(
    url: str,
    screenshot: Path,
    *,
    wait_for: tuple[str, str] | None = None,
    account: dict[str, str] | None = None,
) -> str:
    """Open ``url`` in headless Chromium (logging in through the form first with ``account``),
    optionally wait for an element (selector, text), screenshot it and return the page's text."""
    async with browser_page() as page:
        if account:
            await log_in_to_dashboard(page, url, account["username"], account["password"])
        else:
            await page.goto(url)
        if wait_for:
            await page.locator(wait_for[0], has_text=wait_for[1]).first.wait_for(timeout=15_000)
        await page.screenshot(path=str(screenshot), full_page=True)
        text: str = await page.inner_text("body")
        return text


async def test_one_petition_end_to_end(stack: Stack) -> None:
    intake, supervision, notify = stack.url("intake"), stack.url("supervision"), stack.url("notify")
    frames: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30, headers=auth_headers()) as client:
        for name in SERVICES:
            ready = await client.get(stack.url(name) + "/readyz")
            assert ready.status_code == 200, (name, ready.text)

        sse_ready = asyncio.Event()
        sse = asyncio.create_task(sse_frames(client, notify + "/api/v1/stream", frames, sse_ready))
        await asyncio.wait_for(sse_ready.wait(), 10)
        t0 = time.monotonic()
        resp = await client.post(
            intake + "/api/v1/petitions",
            json={
                "channel": "letter",
                "petitioners": [{"name": "李秀英", "phone": "0571-86001234"}],
                "receiving_office_code": "339902",
                "matter_location_code": "339902001001",
                "content": "小区南侧工地夜间施工，噪声严重影响居民休息，请求依法查处。",
            },
        )
        assert resp.status_code == 201, resp.text
        created = resp.json()

        async def status() -> dict[str, Any] | None:
            doc = (await client.get(f"{intake}/api/v1/petitions/{created['query_code']}")).json()
            return doc if doc["status"] == "routed" else None

        # (a) the petitioner sees the case routed
        routed = await eventually(status, timeout=30, what="status routed")
        assert routed["status_label"] == "已转送责任单位"
        assert (
            routed["handling_unit"] == "江临市生态环境局临江区分局"
        )  # noise → ecology, county level
        assert [h["status"] for h in routed["history"]] == ["registered", "routed"]
        t_routed = time.monotonic() - t0

        # (b) supervision stored the statutory deadlines
        async def deadlines() -> list[dict[str, Any]] | None:
            r = await client.get(f"{supervision}/api/v1/cases/{created['case_id']}/deadlines")
            return r.json() if r.status_code == 200 and len(r.json()) == 1 else None

        stored = await eventually(deadlines, timeout=30, what="deadlines stored")
        assert [d["kind"] for d in stored] == [
            "acceptance_notice"
        ]  # 60-day handling starts at acceptance
        due = date.fromisoformat(stored[0]["due_date"])
        days_left = (due - (date.fromisoformat(stored[0]["start_date"]) + timedelta(days=12))).days
        assert all(d["status"] == "open" and not d["notices"] for d in stored)
        assert not [f for f in frames if f["case_id"] == created["case_id"]]

        # (c) one command moves the clock of the whole system 12 days: a reminder arrives live
        t1 = time.monotonic()
        cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance", "12d", "--json"]
        for name in SERVICES:
            cmd += ["--wait", stack.url(name) + "/healthz"]
        out = await asyncio.to_thread(
            subprocess.run, cmd, env=stack.env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert json.loads(out.stdout)["lagging"] == []

        mine = await eventually(
            lambda: [f for f in frames if f["case_id"] == created["case_id"]],
            timeout=30,
            what="SSE reminder",
        )
        t_reminder = time.monotonic() - t1
        assert mine[0]["source_event_type"] == "deadline.reminder"
        assert mine[0]["level"] == "yellow"
        assert (
            f"还剩{days_left}天" in mine[0]["title"] and created["case_number"] in mine[0]["title"]
        )
        sse.cancel()

        # (d) a person opens the dashboard in a real browser and sees the reminder live
        text = await _browser_text(
            notify + "/",
            stack.var / "dashboard.png",
            wait_for=("li.yellow", created["case_number"]),
            account=demo_account("city.leader"),
        )
        assert "催办" in text and f"还剩{days_left}天" in text and "已连接" in text

        # (e) the petitioner opens the status page with the query code
        page = await _browser_text(f"{intake}/cx/{created['query_code']}", stack.var / "status.png")
        assert created["case_number"] in page and "办理期限" in page
        assert "受理告知" in page and "下一步" in page and "书面告知是否受理" in page
        print(
            json.dumps(
                {
                    "routed_after_s": round(t_routed, 2),
                    "reminder_after_clock_s": round(t_reminder, 2),
                }
            )
        )
