"""The reports API (issue #17) on a known mix of read-model rows (tests/integration/reports_seed.py):
exact figures with 同比, breakdowns, drill-down to the ledger (a figure equals the ledger's total
for its measure), scope (a county sees none of another's items, a handler only its own unit's),
the exports read back, the periodic report, and the 422s. No broker needed; run on PostgreSQL
too (XF_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from xinfang_reports.config import ReportsSettings
from xinfang_reports.main import create_app
from xinfang_reports.stats.measures import MEASURES
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token, service_token

from tests.apps import running
from tests.conftest import Databases, free_port
from tests.integration.reports_seed import FORMULA, QINGHE_Q3, seed

Q3 = {"from": "2026-07-01", "to": "2026-09-30"}
SEALED = "（检举人信息保密）"


def bearer(app: FastAPI, role: Role, org_code: str, username: str = "u") -> dict[str, str]:
    settings = app.state.runtime.settings
    who = Principal(username=username, name=username, role=role, org_code=org_code)
    token = issue_token(who, secret=settings.auth_secret, ttl_s=3600, now=datetime.now(UTC))
    return {"Authorization": f"Bearer {token}"}


class Ctx:
    def __init__(self, app: FastAPI, client: httpx.AsyncClient, data: dict[str, Any]) -> None:
        self.app, self.client, self.data = app, client, data
        self.qinghe = bearer(app, Role.SUPERVISOR, "339922", "qh.duban")
        self.linjiang = bearer(app, Role.SUPERVISOR, "339902", "lj.duban")
        self.city = bearer(app, Role.LEADER, "339900", "city.leader")
        self.zrzy = bearer(app, Role.HANDLER, "339922-zrzy", "qh.zrzy")

    async def get(self, path: str, headers: dict[str, str], **params: Any) -> httpx.Response:
        return await self.client.get(path, headers=headers, params=params)

    async def json(self, path: str, headers: dict[str, str], **params: Any) -> Any:
        r = await self.get(path, headers, **params)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
async def ctx(databases: Databases) -> AsyncIterator[Ctx]:
    settings = ReportsSettings(
        XF_REPORTS_DATABASE_URL=await databases.new("reports"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        clock_mode="manual",
        XF_REPORTS_MAX_EXPORT_ROWS=9,  # 清河县's quarter (8) may be exported, the city's (10) not
    )
    app = create_app(settings)
    async with running(app, token=None) as client:
        data = await seed(app, app.state.reports.today())
        yield Ctx(app, client, data)


def figures(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in summary["figures"]}


async def test_the_summary_gives_every_figure_with_last_years(ctx: Ctx) -> None:
    s = await ctx.json("/api/v1/stats/summary", ctx.qinghe, **Q3)
    assert s["period"] == {"from": "2026-07-01", "to": "2026-09-30", "label": "2026年第三季度"}
    assert s["previous"] == {"from": "2025-07-01", "to": "2025-09-30", "label": "2025年第三季度"}
    assert s["scope"] == {"code": "339922", "name": "清河县"}
    got = {k: (f["value"], f["previous"]) for k, f in figures(s).items()}
    assert got == QINGHE_Q3
    f = figures(s)
    assert f["items"]["change"] == 5 and f["items"]["unit"] == "件次"
    assert f["visits"]["unit"] == "批" and f["visit_persons"]["unit"] == "人次"
    assert f["repeat_rate"]["change"] == -20.8 and f["repeat_rate"]["unit"] == "%"
    rate = f["accept_timely_rate"]
    assert (rate["numerator"], rate["denominator"], rate["measure"]) == (4, 7, "accept_assessable")
    assert f["rated"]["note"] == "信访人评价上线后统计" and f["rated"]["measure"] is None
    assert f["reply_ontime_rate"]["label"] == "按期办结率（按期答复率）"


async def test_each_figure_drills_down_to_exactly_the_items_it_counts(ctx: Ctx) -> None:
    s = figures(await ctx.json("/api/v1/stats/summary", ctx.qinghe, **Q3))
    for key, m in MEASURES.items():
        page = await ctx.json("/api/v1/ledger/items", ctx.qinghe, measure=key, page_size=500, **Q3)
        if m.sums_persons:  # 人次: the visits listed carry the persons summed
            assert sum(r["persons"] for r in page["rows"]) == s[key]["value"], key
        else:
            assert page["total"] == s[key]["value"], key
            assert len(page["rows"]) == page["total"], key
    # the measure filter narrows every figure, the backlog's each over its own period
    overdue = figures(await ctx.json("/api/v1/stats/summary", ctx.qinghe, measure="overdue", **Q3))
    assert (overdue["items"]["value"], overdue["backlog_total"]["value"]) == (2, 0)
    backlog = figures(
        await ctx.json("/api/v1/stats/summary", ctx.qinghe, measure="backlog_total", **Q3)
    )
    assert (backlog["backlog_total"]["value"], backlog["backlog_total"]["previous"]) == (2, 1)
    assert backlog["items"]["value"] == 0  # B1 and B2 were received before the quarter
    # a filter narrows the summary and the ledger alike
    visits = figures(await ctx.json("/api/v1/stats/summary", ctx.qinghe, channel="来访", **Q3))
    assert visits["items"]["value"] == 3 and visits["overdue"]["value"] == 2
    listed = await ctx.json("/api/v1/ledger/items", ctx.qinghe, channel="visit", **Q3)
    assert {r["case_number"] for r in listed["rows"]} == {
        "339922-2026-Q2",
        "339922-2026-Q3",
        "339922-2026-Q7",
    }


async def test_breakdowns_by_channel_place_handling_level_and_month(ctx: Ctx) -> None:
    async def rows(by: str, **params: Any) -> list[tuple[Any, ...]]:
        b = await ctx.json("/api/v1/stats/breakdown", ctx.qinghe, by=by, **Q3, **params)
        return [(r["key"], r["name"], r["items"], r["previous_items"]) for r in b["rows"]]

    assert await rows("channel") == [
        ("visit", "来访", 3, 1),
        ("letter", "来信", 2, 1),
        ("phone", "来电", 1, 1),
        ("leader_mailbox", "领导信箱", 1, 0),
        ("online", "网上信访", 1, 0),
    ]
    assert await rows("place") == [
        ("339922101", "清河镇", 3, 1),
        ("339922102", "柳塘乡", 2, 1),
        ("", "未注明地点", 1, 1),
        ("339922103", "石门镇", 1, 0),
        ("other", "其他地点", 1, 0),
    ]
    assert await rows("place", within="339922101") == [
        ("339922101201", "东岗村", 2, 1),
        ("339922101202", "西岗村", 1, 0),
    ]
    assert await rows("handling") == [
        ("339922-zrzy", "清河县自然资源和规划局", 2, 3),
        ("339902-zrzy", "临江区自然资源和规划局", 1, 0),
        ("339922-jw", "清河县纪委监委", 1, 0),
        ("339922-rsj", "清河县人力资源和社会保障局", 1, 0),
        ("339922-xfj", "清河县信访局", 1, 0),
        ("339922102", "柳塘乡", 1, 0),
        ("", "未分办", 1, 0),
    ]
    assert await rows("level") == [
        ("county", "县（区）", 6, 3),
        ("township", "乡镇（街道）", 1, 0),
        ("", "未分办", 1, 0),
        ("city", "市", 0, 0),
        ("village", "村（社区）", 0, 0),
    ]
    assert await rows("month") == [
        ("2026-07", "2026年7月", 4, 1),
        ("2026-08", "2026年8月", 2, 1),
        ("2026-09", "2026年9月", 2, 1),
    ]
    categories = await rows("category")
    assert categories[0] == ("land_compensation", "征地补偿", 5, 3)
    b = await ctx.json("/api/v1/stats/breakdown", ctx.qinghe, by="handling", **Q3)
    zrzy = b["rows"][0]
    assert (zrzy["reply_assessable"], zrzy["reply_ontime"], zrzy["reply_ontime_rate"]) == (
        2,
        1,
        50.0,
    )
    days = await ctx.json(
        "/api/v1/stats/breakdown",
        ctx.qinghe,
        by="day",
        **{"from": "2026-07-01", "to": "2026-07-05"},
    )
    assert [(r["key"], r["items"]) for r in days["rows"]] == [
        ("2026-07-01", 0),
        ("2026-07-02", 0),
        ("2026-07-03", 1),
        ("2026-07-04", 0),
        ("2026-07-05", 1),
    ]
    # another county's unit is not there to break down
    r = await ctx.get("/api/v1/stats/breakdown", ctx.qinghe, by="place", within="339902", **Q3)
    assert r.status_code == 404


async def test_a_county_sees_none_of_anothers_items_and_a_handler_only_its_units(
    ctx: Ctx,
) -> None:
    lj = figures(await ctx.json("/api/v1/stats/summary", ctx.linjiang, **Q3))
    assert (lj["items"]["value"], lj["visit_persons"]["value"]) == (3, 5)
    assert lj["backlog_total"]["value"] == 1
    listed = await ctx.json("/api/v1/ledger/items", ctx.linjiang, page_size=500, **Q3)
    # X1 was received at 清河县 about a village of 临江区 handled there: both see it
    assert {r["case_number"] for r in listed["rows"]} == {
        "339902-2026-L1",
        "339902-2026-L2",
        "339922-2026-X1",
    }
    qh = await ctx.json("/api/v1/ledger/items", ctx.qinghe, page_size=500, **Q3)
    assert not any(r["case_number"].startswith("339902") for r in qh["rows"])
    # 清河县 asking for 临江区's places or bodies gets nothing of theirs
    other = figures(
        await ctx.json("/api/v1/stats/summary", ctx.qinghe, handling="339902-rsj", **Q3)
    )
    assert other["items"]["value"] == 0
    city = figures(await ctx.json("/api/v1/stats/summary", ctx.city, **Q3))
    assert city["items"]["value"] == 10 and city["backlog_total"]["value"] == 3

    mine = await ctx.json("/api/v1/stats/summary", ctx.zrzy, **Q3)
    assert mine["scope"] == {"code": "339922-zrzy", "name": "清河县自然资源和规划局"}
    f = figures(mine)
    assert (f["items"]["value"], f["visits"]["value"], f["backlog_total"]["value"]) == (2, 1, 2)
    page = await ctx.json("/api/v1/ledger/items", ctx.zrzy, **Q3)
    assert [r["case_number"] for r in page["rows"]] == ["339922-2026-Q1", "339922-2026-Q3"]


async def test_only_staff_read_the_figures(ctx: Ctx) -> None:
    r = await ctx.get("/api/v1/stats/summary", {}, **Q3)
    assert r.status_code == 401
    settings = ctx.app.state.runtime.settings
    machine = service_token("tests", secret=settings.auth_secret, ttl_s=60, org_code="339900")
    r = await ctx.get("/api/v1/stats/summary", {"Authorization": f"Bearer {machine}"}, **Q3)
    assert r.status_code == 403 and "无权" in r.json()["message"]
    for role in (Role.REGISTRAR, Role.ADMIN):
        r = await ctx.get("/api/v1/ledger/backlog", bearer(ctx.app, role, "339922"))
        assert r.status_code == 200


async def test_the_ledger_hides_sealed_informants_and_pages(ctx: Ctx) -> None:
    page = await ctx.json("/api/v1/ledger/items", ctx.qinghe, page_size=3, **Q3)
    assert page["total"] == 8 and len(page["rows"]) == 3
    assert [r["case_number"][-2:] for r in page["rows"]] == ["Q1", "Q2", "Q3"]
    last = await ctx.json(
        "/api/v1/ledger/items", ctx.qinghe, page_size=3, page=1, sort="-received", **Q3
    )
    assert last["rows"][0]["case_number"] == "339922-2026-Q7"
    rows = {
        r["case_number"][-2:]: r
        for r in (await ctx.json("/api/v1/ledger/items", ctx.qinghe, page_size=500, **Q3))["rows"]
    }
    assert rows["Q5"]["petitioners"] == SEALED
    assert rows["Q6"]["petitioners"] == "（匿名）"
    assert rows["Q2"]["channel_label"] == "来访" and rows["Q2"]["persons"] == 7
    assert rows["Q1"]["reply_due"] == "2026-09-01" and rows["Q1"]["outcome"] == "已补发补偿款"


async def test_the_backlog_ledger(ctx: Ctx) -> None:
    every = await ctx.json("/api/v1/ledger/backlog", ctx.qinghe)
    assert [r["case_number"][-2:] for r in every["rows"]] == ["B5", "B3", "B1", "B2", "B4"]
    quarter = await ctx.json("/api/v1/ledger/backlog", ctx.qinghe, **Q3)
    assert quarter["total"] == 2
    b1 = quarter["rows"][0]
    assert (b1["case_number"], b1["leader"], b1["backlog_date"], b1["closed_date"]) == (
        "339922-2025-B1",
        "王副县长",
        "2026-05-01",
        "2026-08-15",
    )
    assert b1["backlog_reasons"] == "超期未办结；重复信访" and b1["escalations"] == 2


def _workbook(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return openpyxl.load_workbook(io.BytesIO(r.content))


async def test_the_ledger_as_xlsx(ctx: Ctx) -> None:
    r = await ctx.get("/api/v1/ledger/items.xlsx", ctx.qinghe, **Q3)
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    cd = r.headers["content-disposition"]
    assert cd.startswith("attachment;") and "filename*=UTF-8''" in cd
    assert "%E4%BF%A1%E8%AE%BF" in cd  # 信访…
    ws = _workbook(r).active
    assert ws.title == "信访登记台账" and ws.freeze_panes == "A2"
    header = [c.value for c in ws[1]]
    assert header[:12] == [
        "编号", "日期", "渠道", "信访人", "人数", "地点", "事项", "类别", "承办单位", "期限", "状态", "结果"
    ]  # fmt: skip
    assert header[12:] == ["性质", "重复", "超期", "督办"]
    assert ws[1][0].font.bold and ws.auto_filter.ref == "A1:P9"
    body = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(body) == 8
    by_number = {row[0]: row for row in body}
    q1 = by_number["339922-2026-Q1"]
    assert isinstance(q1[1], datetime) and q1[1].date() == date(2026, 7, 3)
    assert ws["B2"].number_format == "yyyy-mm-dd"
    assert q1[6] == FORMULA and ws["G2"].data_type == "s"  # text, never a formula
    assert by_number["339922-2026-Q5"][3] == SEALED
    assert by_number["339922-2026-Q2"][4] == 7 and by_number["339922-2026-Q2"][14] == "是"
    assert by_number["339922-2026-Q4"][13] == "一信多投"
    assert ws.column_dimensions["G"].width > ws.column_dimensions["E"].width


async def test_the_ledger_as_csv(ctx: Ctx) -> None:
    r = await ctx.get("/api/v1/ledger/items.csv", ctx.qinghe, **Q3)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["编号", "日期", "渠道", "信访人"]
    assert len(lines) == 9
    by_number = {line[0]: line for line in lines[1:]}
    assert by_number["339922-2026-Q1"][6] == "'" + FORMULA
    assert by_number["339922-2026-Q1"][1] == "2026-07-03"
    assert by_number["339922-2026-Q5"][3] == SEALED
    backlog = await ctx.get("/api/v1/ledger/backlog.csv", ctx.qinghe, **Q3)
    assert len(backlog.content.decode("utf-8-sig").strip().splitlines()) == 3
    sheet = _workbook(await ctx.get("/api/v1/ledger/backlog.xlsx", ctx.qinghe)).active
    assert sheet.title == "积案台账" and sheet.max_row == 6
    assert [c.value for c in sheet[1]][6:8] == ["包案领导", "列入积案日期"]


async def test_an_export_beyond_the_limit_is_refused(ctx: Ctx) -> None:
    for path in ("/api/v1/ledger/items.xlsx", "/api/v1/ledger/items.csv"):
        r = await ctx.get(path, ctx.city, **Q3)
        assert r.status_code == 422
        assert "超过上限 9 行" in r.json()["errors"][0]["message"]


async def test_the_periodic_report(ctx: Ctx) -> None:
    rep = await ctx.json(
        "/api/v1/reports/periodic", ctx.qinghe, period="quarter", year=2026, number=3
    )
    assert rep["title"] == "清河县2026年第三季度信访工作统计报告"
    assert rep["period"]["from"] == "2026-07-01" and rep["previous"]["to"] == "2025-09-30"
    assert {f["key"]: (f["value"], f["previous"]) for f in rep["summary"]} == QINGHE_Q3
    assert [(r["key"], r["items"]) for r in rep["by_channel"]][:2] == [("visit", 3), ("letter", 2)]
    assert [r["name"] for r in rep["top_places"]] == ["清河镇", "柳塘乡", "石门镇"]
    assert [(u["code"], u["rate"], u["overdue"]) for u in rep["units"]] == [
        ("339922-zrzy", 50.0, 1),
        ("339922102", 0.0, 1),
        ("339902-zrzy", None, 0),
        ("339922-jw", None, 0),
        ("339922-rsj", None, 0),
        ("339922-xfj", None, 0),
    ]
    assert rep["backlog"] == {"total": 2, "resolved": 1, "rate": 50.0}
    assert [r["items"] for r in rep["by_month"]] == [4, 2, 2]
    year = await ctx.json("/api/v1/reports/periodic", ctx.qinghe, period="year", year=2026)
    assert year["title"] == "清河县2026年度信访工作统计报告"
    assert len(year["by_month"]) == 12
    assert figures({"figures": year["summary"]})["items"]["value"] == 10
    july = await ctx.json(
        "/api/v1/reports/periodic", ctx.qinghe, period="month", year=2026, number=7
    )
    assert july["title"] == "清河县2026年7月信访工作统计报告"
    assert figures({"figures": july["summary"]})["items"]["value"] == 4

    r = await ctx.get(
        "/api/v1/reports/periodic.xlsx", ctx.qinghe, period="quarter", year=2026, number=3
    )
    wb = _workbook(r)
    assert wb.sheetnames == [
        "概况", "按渠道", "按性质", "类别前十", "地点前十", "承办单位", "积案", "逐月走势"
    ]  # fmt: skip
    summary = wb["概况"]
    assert summary["A1"].value == "清河县2026年第三季度信访工作统计报告（概况）"
    assert summary.freeze_panes == "A3"
    assert [c.value for c in summary[2]][:3] == ["指标", "单位", "本期"]
    assert [c.value for c in summary[3]][:4] == ["件次", "件次", 8, 3]
    units = wb["承办单位"]
    assert [c.value for c in units[3]][:2] == [1, "清河县自然资源和规划局"]


async def test_bad_parameters_are_422_in_chinese(ctx: Ctx) -> None:
    async def message(path: str, **params: Any) -> str:
        r = await ctx.get(path, ctx.qinghe, **params)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["message"] == "提交的数据有误，请按提示修改"
        return str(body["errors"][0]["message"])

    summary = "/api/v1/stats/summary"
    assert await message(summary, **{"from": "2026-07-01", "to": "2026-06-30"}) == (
        "结束日期不能早于开始日期"
    )
    assert await message(summary, **{"from": "2016-01-01", "to": "2026-01-01"}) == (
        "统计区间最长 10 年"
    )
    assert "YYYY-MM-DD" in await message(summary, **{"from": "20260701"})
    assert "YYYY-MM-DD" in await message(summary, to="2026-02-30")
    assert "未知的统计指标" in await message(summary, measure="nonsense")
    assert "可选" in await message(summary, channel="pigeon")
    assert "可选" in await message("/api/v1/stats/breakdown", by="weather")
    assert "by=place" in await message("/api/v1/stats/breakdown", by="channel", within="339922")
    assert "季度" in await message("/api/v1/reports/periodic", period="quarter", number=5)
    assert "月份" in await message("/api/v1/reports/periodic", period="month")
    assert "500" in await message("/api/v1/ledger/items", page_size=501)
    assert "40" in await message(summary, place="1" * 41)
    # an empty parameter, as a form sends 全部, is no filter
    blank = await ctx.json(summary, ctx.qinghe, channel="", measure="", place="", level="", **Q3)
    assert figures(blank)["items"]["value"] == 8
    # the default period: this month up to today
    s = await ctx.json(summary, ctx.qinghe)
    today = ctx.app.state.reports.today()
    assert s["period"]["from"] == today.replace(day=1).isoformat()
    assert s["period"]["to"] == today.isoformat() == s["as_of"]
