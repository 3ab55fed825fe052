"""The petitioner's pages in a real browser (issue #13): headless Chromium, under the strict
Content-Security-Policy the pages are served with, loads their stylesheet, shows no CSP
violation, and a late step reads as done and late. Screenshots at 1366×768 are kept."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from xinfang_intake.main import create_app
from xinfang_shared.events import DeadlineSummary
from xinfang_shared.timeutil import local_date

from tests.apps import service_token_for_tests
from tests.conftest import Databases, eventually, free_port
from tests.e2e.stacks import browser_page
from tests.integration.test_intake import intake_settings, petition
from tests.integration.test_intake_pages import status_changed
from tests.kafka_helpers import produce

SHOTS = Path(os.environ.get("XF_SCREENSHOT_DIR", "/tmp"))


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout=20, what="intake serving")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_petitioners_pages_render_under_a_strict_csp_in_chromium(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    async with serving(app) as base:
        now = app.state.runtime.clock.now()
        token = service_token_for_tests(settings, now)
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            reg = (await client.post("/api/v1/petitions", json=petition())).json()
            now = app.state.runtime.clock.now()  # after the registration
            today = local_date(now)
            due = today - timedelta(days=3)
            deadlines = [
                DeadlineSummary(kind="acceptance", label="受理告知", due_date=due, status="met"),
                DeadlineSummary(
                    kind="handling", label="办理答复", due_date=today + timedelta(days=57),
                    status="open",
                ),
            ]  # fmt: skip
            event = status_changed(
                reg,
                old_status="routed",
                new_status="accepted",
                changed_at=now,
                note="清河县自然资源局已受理",
                deadlines=deadlines,
                handling_unit_name="清河县自然资源局",
            )
            await produce(broker, "case.status_changed", event, key=reg["case_id"].encode())

            async def accepted() -> bool:
                r = await client.get(f"/api/v1/petitions/{reg['query_code']}")
                return bool(r.json()["status"] == "accepted")

            await eventually(accepted, timeout=30, what="the acceptance")

        async with browser_page() as page:
            violations: list[str] = []
            page.on(
                "console",
                lambda m: (
                    violations.append(m.text) if "Content Security Policy" in m.text else None
                ),
            )
            await page.set_viewport_size({"width": 1366, "height": 768})
            await page.goto(f"{base}/cx")
            await page.fill("#code", reg["query_code"].lower())
            await page.screenshot(path=str(SHOTS / "cx-lookup.png"))
            await page.click("button[type=submit]")
            await page.wait_for_url(f"{base}/cx/{reg['query_code']}")
            late = page.locator("td.late")
            assert await late.inner_text() == "已完成（超期 3 天）"
            # the stylesheet applied (it is a file of intake's, allowed by the CSP)
            colour: Any = await late.evaluate("e => getComputedStyle(e).color")
            assert colour == "rgb(197, 48, 48)"
            body = await page.inner_text("main")
            assert "清河县自然资源局" in body and reg["case_number"] in body
            await page.screenshot(path=str(SHOTS / "cx-status.png"), full_page=True)
            assert violations == []
