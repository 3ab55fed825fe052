"""The 统计 pages in Chromium at 1366×768, against the stand-in of the reports API
(tests/fake_reports.py, the contract's shapes), the workbench and the stand-ins served over
HTTP in this process: the strict CSP holds (no inline style, no script but the workbench's),
nothing is wider than the screen, a chart's bar is reached and followed with the keyboard, the
report prints without the menu, and an export arrives as a file. Screenshots go to
``XF_SCREENSHOT_DIR`` (default var/screenshots)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.main import create_app
from xinfang_workbench.session import COOKIE
from xinfang_workbench.stats import views

from tests.e2e.workbench import chromium, new_page, shot
from tests.fake_reports import reports_app, routing_app, serving

TODAY = date(2026, 5, 20)


@asynccontextmanager
async def stats_desk(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, str]]:
    """The workbench on the stand-ins; yields its address and a supervisor's session token."""
    monkeypatch.setattr(views, "today", lambda: TODAY)
    async with serving(reports_app(today=TODAY)) as reports, serving(routing_app()) as routing:
        settings = WorkbenchSettings(XF_REPORTS_URL=reports, XF_ROUTING_URL=routing)
        async with serving(create_app(settings)) as base:
            p = Principal(
                username="qinghe.supervisor",
                name="清河县信访局督办员",
                role=Role.SUPERVISOR,
                org_code="339922",
            )
            token = issue_token(p, secret=settings.auth_secret, ttl_s=3600, now=datetime.now(UTC))
            yield base, token


async def _page(browser: Any, base: str, token: str, problems: list[str]) -> Any:
    page = await new_page(browser)
    await page.context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
    # what the CSP refused, and script errors (a failed load is not one: the live feed's
    # notify service is absent here, and a 422 page is one by design)
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Refused to" in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


async def _fits(page: Any) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1366, f"{page.url} is {width}px wide"


async def test_the_statistics_pages_in_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    async with stats_desk(monkeypatch) as (base, token), chromium() as browser:
        problems: list[str] = []
        page = await _page(browser, base, token, problems)
        await page.goto(base + "/stats?preset=year")
        await page.locator("svg").first.wait_for()
        assert await page.locator("svg").count() == 4
        await _fits(page)
        await shot(page, "stats-figures")

        # a bar with the keyboard: focus it, Enter, and its 台账 opens
        bar = page.locator("#by-category svg a").first
        await bar.focus()
        assert await page.evaluate("document.activeElement.closest('svg') !== null")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/stats/ledger?**category=land_requisition**")
        await page.locator("table.ledger").wait_for()
        await _fits(page)
        await shot(page, "stats-ledger")

        # the period typed by hand becomes a custom period (the workbench's own script)
        await page.goto(base + "/stats")
        await page.fill("input[name=from]", "2026-05-10")
        await page.fill("input[name=to]", "2026-05-01")
        assert await page.input_value("select[name=preset]") == "custom"
        await page.get_by_role("button", name="查询").click()
        await page.locator("#err-to").wait_for()
        assert "截止日期不能早于起始日期" in await page.inner_text("#err-to")
        await shot(page, "stats-422")

        await page.goto(base + "/stats/backlog")
        await page.locator("table.ledger").wait_for()
        await _fits(page)
        await shot(page, "stats-backlog")

        await page.goto(base + "/stats/report?period=quarter&year=2026&quarter=1")
        assert not await page.locator("select[name=month]").is_visible()
        await page.select_option("select[name=period]", "month")
        assert await page.locator("select[name=month]").is_visible()
        await _fits(page)
        await shot(page, "stats-report")
        await page.emulate_media(media="print")
        assert not await page.locator("header.top").is_visible()
        assert not await page.locator("form.filters").is_visible()
        await shot(page, "stats-report-print")
        await page.emulate_media(media="screen")

        await page.goto(base + "/stats")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="导出 CSV").click()
        download = await info.value
        assert download.suggested_filename.startswith("信访登记台账_")
        assert download.suggested_filename.endswith(".csv")
        assert problems == [], problems
