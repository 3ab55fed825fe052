"""The 统计 pages in a real browser against the whole system, the reports service included:
two items registered at the counter are counted on the supervisor's /stats page, the count
opens the 台账 that lists exactly them, a chart's bar opens the ledger of its category, the
CSV export arrives as a file with both, the periodic report renders, and a handler counts only
what their own department handles."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.run import SERVICES, WORKBENCH, Stack, login
from tests.conftest import Databases, eventually
from tests.e2e.stacks import demo_account
from tests.e2e.workbench import chromium, log_in, new_page, shot, workbench_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        "reports" not in SERVICES,
        reason="the reports service is not in deploy/run.py's stack yet (issue #17)",
    ),
]


def token_of(stack: Stack, username: str) -> str:
    return login(stack.url("intake"), username, demo_account(username)["password"])


def petition(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "channel": "letter",
        "petitioners": [{"name": "王建国", "phone": "13905710001"}],
        "receiving_office_code": "339922",
        "matter_location_code": "339922101201",
        "content": content,
        **extra,
    }


async def test_the_figures_their_ledger_and_the_report(
    tmp_path: Path, databases: Databases
) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        wb = stack.url(WORKBENCH)
        desk = {"Authorization": f"Bearer {token_of(stack, 'qinghe.registrar')}"}
        boss = {"Authorization": f"Bearer {token_of(stack, 'qinghe.supervisor')}"}
        numbers = []
        async with httpx.AsyncClient(timeout=30, headers=desk) as client:
            for body in (
                petition(
                    "西岗村承包地被征收，补偿款至今未足额发放，请求督促落实。",
                    category="土地征收补偿",
                    title="征地补偿款未足额发放",
                ),
                petition("村里的路灯坏了半年没人修，晚上出行不便。", channel="online"),
            ):
                r = await client.post(stack.url("intake") + "/api/v1/petitions", json=body)
                assert r.status_code == 201, r.text
                numbers.append(r.json()["case_number"])

        async def counted() -> bool:  # the read model has caught up with both
            async with httpx.AsyncClient(timeout=30, headers=boss) as client:
                r = await client.get(stack.url("reports") + "/api/v1/stats/summary")
            items = next(f for f in r.json()["figures"] if f["key"] == "items")
            return bool(items["value"] == 2)

        await eventually(counted, timeout=60, what="the reports service counted both items")

        page = await new_page(browser)
        await log_in(page, wb, "qinghe.supervisor", path="/stats")
        row = page.locator('tr[data-figure="items"]')
        assert (await row.locator("td.num a").first.inner_text()) == "2"
        assert await page.locator("svg").count() == 4
        assert await page.evaluate("document.documentElement.scrollWidth") <= 1366
        await shot(page, "stats-live-figures")

        await row.locator("td.num a").first.click()
        await page.wait_for_url("**/stats/ledger?**measure=items**")
        assert (await page.locator(".pager .total").first.inner_text()) == "2"
        for number in numbers:
            await page.locator(f'tr[data-case="{number}"]').wait_for()
        await shot(page, "stats-live-ledger")

        await page.goto(wb + "/stats")
        bar = page.locator("#by-category svg a", has_text="1").first
        await bar.focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/stats/ledger?**category=**")
        assert (await page.locator(".pager .total").first.inner_text()) == "1"

        async with page.expect_download() as info:
            await page.get_by_role("link", name="导出 CSV").first.click()
        download = await info.value
        assert download.suggested_filename.startswith("信访登记台账_")
        saved = Path(await download.path())
        text = await asyncio.to_thread(saved.read_text, encoding="utf-8-sig")
        assert "编号" in text.splitlines()[0]

        await page.goto(wb + "/stats/report")
        await page.locator(".report-title").wait_for()
        assert "清河县" in await page.inner_text(".report-title")
        await shot(page, "stats-live-report")

        handler = await new_page(browser)
        await log_in(handler, wb, "qinghe.zrzy", path="/stats/ledger")
        total = int(await handler.locator(".pager .total").first.inner_text())
        assert total <= 1  # only what the 自然资源和规划局 handles (the land item, once routed)
