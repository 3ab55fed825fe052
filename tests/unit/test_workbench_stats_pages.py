"""The 统计 pages as a person gets them, in process: the workbench app with its reports and
routing clients pointed at a stand-in of the reports API (tests/fake_reports.py, the contract's
JSON shapes). What the pages say, where their links lead, and how a 422 or a reports service
that does not answer reads."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.main import create_app
from xinfang_workbench.session import COOKIE
from xinfang_workbench.stats import views

from tests.fake_reports import reports_app, routing_app

TODAY = date(2026, 5, 20)
USERS = {
    Role.SUPERVISOR: ("qinghe.supervisor", "339922"),
    Role.HANDLER: ("qinghe.zrzy", "339922-zrzy"),
    Role.REGISTRAR: ("qinghe.registrar", "339922"),
    Role.LEADER: ("qinghe.leader", "339922"),
    Role.ADMIN: ("qinghe.admin", "339922"),
}


class Desk:
    def __init__(self, client: httpx.AsyncClient, reports: Any, settings: WorkbenchSettings):
        self.client, self.reports, self.settings = client, reports, settings

    def log_in(self, role: Role = Role.SUPERVISOR) -> None:
        username, org = USERS[role]
        p = Principal(username=username, name="测试用户", role=role, org_code=org)
        token = issue_token(p, secret=self.settings.auth_secret, ttl_s=600, now=datetime.now(UTC))
        self.client.cookies.set(COOKIE, token)

    async def get(self, url: str) -> httpx.Response:
        return await self.client.get(url)


@pytest.fixture
async def desk(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Desk]:
    monkeypatch.setattr(views, "today", lambda: TODAY)
    settings = WorkbenchSettings()
    app = create_app(settings)
    fake = reports_app(today=TODAY)
    async with app.router.lifespan_context(app):
        clients = app.state.workbench.api.clients
        await clients["reports"].aclose()
        await clients["routing"].aclose()
        clients["reports"] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=fake), base_url="http://reports"
        )
        clients["routing"] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=routing_app()), base_url="http://routing"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
        ) as client:
            d = Desk(client, fake, settings)
            d.log_in()
            yield d


def links(html: str, prefix: str) -> list[str]:
    return [
        h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html) if h.startswith(prefix)
    ]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_every_staff_role_has_the_statistics_page(desk: Desk) -> None:
    for role in USERS:
        desk.log_in(role)
        r = await desk.get("/stats")
        assert r.status_code == 200, role
        assert '<a href="/stats" class="active" aria-current="page">统计</a>' in r.text


async def test_the_figures_compare_with_last_year_and_link_to_their_ledger(desk: Desk) -> None:
    r = await desk.get("/stats?preset=quarter&channel=visit")
    assert r.status_code == 200
    html = r.text
    # the quarter by the office's date, the services' today left to the services
    path, params = desk.reports.state.calls[0]
    assert path == "/api/v1/stats/summary"
    assert params == {"from": "2026-04-01", "channel": "visit"}
    assert "2026年4月1日至2026年5月20日" in html and "2025年4月1日至2025年5月20日" in html
    assert "增加" in html and "持平" in html and "（去年同期为0）" in html
    assert "信访人评价上线后统计" in html
    # a count's link: its measure and the page's own filters
    visits = next(u for u in links(html, "/stats/ledger?") if "measure=visits" in u)
    assert query_of(visits) == {"preset": "quarter", "channel": "visit", "measure": "visits"}
    r = await desk.get(visits)
    assert r.status_code == 200
    shown = re.search(r'<strong class="total">([\d,]+)</strong>', r.text)
    figure = re.search(r'data-figure="visits">.*?<a href="[^"]+"[^>]*>([\d,]+)</a>', html, re.S)
    assert shown and figure and shown.group(1) == figure.group(1)  # the figures reconcile
    assert "信访登记台账 · 来访批次" in r.text


async def test_the_charts_are_svg_links_to_the_ledger_of_each_bar(desk: Desk) -> None:
    html = (await desk.get("/stats?preset=year")).text
    assert html.count("<svg") == 4
    assert 'style="' not in html  # the CSP allows no inline style
    bars = re.findall(r'<a href="(/stats/ledger\?[^"]+)" aria-label="([^"]+)">', html)
    categories = [(u, label) for u, label in bars if "category=" in u]
    assert categories and categories[0][1].startswith("土地征收补偿：")
    assert query_of(categories[0][0].replace("&amp;", "&")) == {
        "preset": "year",
        "category": "land_requisition",
    }
    months = [query_of(u.replace("&amp;", "&")) for u, _ in bars if "preset=custom" in u]
    assert {"preset": "custom", "from": "2026-03-01", "to": "2026-03-31"} in months
    assert {"preset": "custom", "from": "2025-03-01", "to": "2025-03-31"} in months
    assert {"preset": "custom", "from": "2026-05-01", "to": "2026-05-20"} in months
    assert "未注明地点：" in html  # the place nobody named is drawn, not linked
    assert "另有2项未列出" in html


async def test_a_422_is_shown_beside_the_filter_form_in_chinese(desk: Desk) -> None:
    r = await desk.get("/stats?preset=custom&from=2026-05-10&to=2026-05-01")
    assert r.status_code == 422
    assert "提交的数据有误，请按提示修改" in r.text
    assert re.search(
        r'<span class="field-error" id="err-to">截止日期不能早于起始日期</span>', r.text
    )
    assert 'name="from" value="2026-05-10"' in r.text  # what was typed stays


async def test_a_reports_service_that_does_not_answer_is_a_message_not_a_500(desk: Desk) -> None:
    desk.reports.state.down = True
    for url in ("/stats", "/stats/ledger", "/stats/backlog", "/stats/report"):
        r = await desk.get(url)
        assert r.status_code == 503, url
        assert "统计服务暂不可用，请稍后再试" in r.text
        assert 'name="preset"' in r.text or 'name="period"' in r.text  # the form is still there
    r = await desk.get("/stats/ledger.csv")
    assert r.status_code == 503 and "统计服务暂不可用" in r.text


async def test_the_ledger_pages_and_its_exports_keep_the_filters(desk: Desk) -> None:
    r = await desk.get("/stats/ledger?preset=quarter&category=land_requisition&page=2")
    html = r.text
    assert "第 51–75 件，第 2 / 2 页" in html
    assert "（检举人信息保密）" in html or "张三、李四" in html
    body = html.split("<tbody>")[1].split("</tbody>")[0]
    assert "2026年5月" in body and "2026-05-" not in body
    assert "land_requisition" not in body and "土地征收补偿" in body  # names, not codes
    exports = links(html, "/stats/ledger.")
    assert query_of(exports[0]) == {"preset": "quarter", "category": "land_requisition"}
    r = await desk.get(exports[1])
    assert r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff编号".encode())
    assert desk.reports.state.calls[-1] == (
        "/api/v1/ledger/items.csv",
        {"from": "2026-04-01", "category": "land_requisition"},
    )


async def test_an_export_refused_by_the_reports_service_says_why(desk: Desk) -> None:
    desk.reports.state.down = False
    r = await desk.get("/stats/ledger.pdf")
    assert r.status_code == 404 and "只能导出 Excel" in r.text


async def test_the_backlog_ledger_lists_all_by_default(desk: Desk) -> None:
    html = (await desk.get("/stats/backlog")).text
    assert desk.reports.state.calls[-1][1] == {"page": "1", "page_size": "50"}
    assert '共 <strong class="total">23</strong> 件' in html
    assert "列入积案日期" in html and "未化解" in html
    assert links(html, "/stats/backlog.xlsx") == ["/stats/backlog.xlsx?preset=all"]


async def test_the_periodic_report_is_a_printable_page_with_its_workbook(desk: Desk) -> None:
    r = await desk.get("/stats/report?period=quarter&year=2026&quarter=1")
    html = r.text
    assert r.status_code == 200
    assert "清河县2026年第一季度信访工作统计报告" in html
    for heading in (
        "一、总体情况",
        "二、按渠道",
        "六、承办单位办理情况",
        "七、积案化解",
        "八、各月情况",
    ):
        assert heading in html
    assert "41.7%" in html and "data-print" in html
    assert links(html, "/stats/report.xlsx") == [
        "/stats/report.xlsx?period=quarter&year=2026&number=1"
    ]
    # its figures open the 台账 of the report's period
    ledger = links(html, "/stats/ledger?")[0]
    assert query_of(ledger)["from"] == "2026-01-01" and query_of(ledger)["to"] == "2026-03-31"
    future = await desk.get("/stats/report?period=month&year=2026&month=12")
    assert future.status_code == 422 and "所选报表期尚未开始" in future.text
