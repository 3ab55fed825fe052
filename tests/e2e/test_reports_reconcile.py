"""Every figure reconciles, against the whole system: a known mix of items is registered at
清河县's counter and taken through its lifecycle by the handlers on the services' clock (two
letters, one of them 联名 by 6; two visits, one a collective visit of 7; a call that is not
accepted; an online repeat of an open case; a sealed accusation; and one item of 临江区), with
items decided and replied in time and out of time and one left overdue (督办 follows by itself).
Then each count and rate is checked exactly in the reports API, in the Excel ledger downloaded
through the workbench (read back with openpyxl) and on the workbench's 统计 page in Chromium;
the county sees none of 临江区's item, the city sees it; the 积案 figure equals supervision's
own backlog list; and a rebuild from the topics gives the same figures as the live read model.

The timeline (calendar days on the services' clock; the national profile: 受理告知 15 days,
办理 60 days from acceptance):

    day 0   register A–H; accept A, C, H; reply A, H; decline E; D, a collective visit, is
            handled by 清河县信访局 itself (直接办理) and left there
    day 31  accept B (late: its 受理告知 fell due on day 15) and reply B (in time)
    day 71  reply C (late: due on day 60); D is long past its 登记分办 deadline
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from xinfang_reports import projection

from deploy.run import SERVICES, WORKBENCH, Stack, login
from tests.conftest import Databases, eventually
from tests.e2e.stacks import PARTITIONS, demo_account
from tests.e2e.workbench import chromium, log_in, new_page, shot, workbench_stack

pytestmark = pytest.mark.e2e
LAND = "土地征收补偿"
REPLY = {
    "outcome": "予以支持",
    "facts": "经核查情况属实",
    "reasons": "符合补偿政策",
    "legal_basis": "土地管理法",
}

# what the mix gives in 清河县 (items A–H but G, which is 临江区's)
EXPECTED = {
    "items": 7,
    "letters": 3,  # A, B, H
    "visits": 2,  # C, D (批次)
    "visit_persons": 8,  # 1 + 7 (人次)
    "phone": 1,  # E
    "online": 1,  # F
    "leader_mailbox": 0,
    "first_time": 6,
    "repeat": 1,  # F
    "collective": 2,  # B (联名 6), D (7)
    "collective_visits": 1,  # D
    "collective_persons": 7,
    "accepted": 4,  # A, B, C, H
    "not_accepted": 1,  # E
    # A, B, C, E, H: F joined C's case (no decision of its own); D, a collective visit, is
    # handled by the 信访局 itself and has no 受理告知 deadline
    "accept_assessable": 5,
    "accept_timely": 4,  # all but B
    "reply_assessable": 4,  # A, B, C, H, all replied
    "reply_ontime": 3,  # A, B, H
    "replied": 4,
    "overdue": 3,  # B (受理告知), C (办理), D (登记分办)
    "supervised": 3,  # 督办 issued on every overdue deadline
}
RATES = {"accept_timely_rate": 80.0, "reply_ontime_rate": 75.0, "repeat_rate": 14.3}


def token_of(stack: Stack, username: str) -> str:
    return login(stack.url("intake"), username, demo_account(username)["password"])


def bearer(stack: Stack, username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_of(stack, username)}"}


def item(content: str, who: int, **extra: Any) -> dict[str, Any]:
    """An item of petitioner ``who`` (each item its own person, or the repeat is found)."""
    return {
        "channel": "letter",
        "petitioners": [{"name": f"王{'一二三四五六七八九'[who]}", "phone": f"139057110{who:02d}"}],
        "receiving_office_code": "339922",
        "matter_location_code": "339922101201",
        "category": LAND,
        "content": content,
        **extra,
    }


async def advance(stack: Stack, span: str) -> None:
    cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance", span, "--json"]
    for name in SERVICES:
        cmd += ["--wait", stack.url(name) + "/healthz"]
    out = await asyncio.to_thread(
        subprocess.run, cmd, env=stack.env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


class Desk:
    """The counter and the handlers, through the services' APIs."""

    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack = stack
        self.client = client
        self.registrar = bearer(stack, "qinghe.registrar")
        self.boss = bearer(stack, "qinghe.supervisor")

    async def register(self, body: dict[str, Any], who: str = "qinghe.registrar") -> Any:
        headers = self.registrar if who == "qinghe.registrar" else bearer(self.stack, who)
        r = await self.client.post(
            self.stack.url("intake") + "/api/v1/petitions", json=body, headers=headers
        )
        assert r.status_code == 201, r.text
        return r.json()

    async def opened(self, case: Any, handler: dict[str, str]) -> Any:
        url = f"{self.stack.url('supervision')}/api/v1/cases/{case['case_id']}"

        async def ready() -> Any:
            r = await self.client.get(url, headers=handler)
            return r.json() if r.status_code == 200 and r.json()["deadlines"] else None

        try:
            return await eventually(ready, timeout=60, what=f"{case['case_number']} opened")
        except AssertionError:
            seen = await self.client.get(url, headers=self.boss)
            pytest.fail(f"{case['case_number']} not opened for its handler: {seen.text[:1500]}")

    async def step(
        self, case: Any, action: str, handler: dict[str, str], body: dict[str, Any] | None = None
    ) -> None:
        url = f"{self.stack.url('supervision')}/api/v1/cases/{case['case_id']}/actions/{action}"
        r = await self.client.post(url, json=body or {}, headers=handler)
        assert r.status_code == 200, f"{action}: {r.text}"

    async def overdue(self, case: Any, since: date) -> None:
        """Wait until the sweep has found ``case`` overdue (and the read model has heard it):
        a step taken before that would race the sweep and the deadline would never be missed."""

        async def listed() -> bool:
            r = await self.client.get(
                self.stack.url("reports") + "/api/v1/ledger/items",
                params={"measure": "overdue", "from": since.isoformat(), "page_size": 100},
                headers=self.boss,
            )
            return case["case_number"] in {row["case_number"] for row in r.json()["rows"]}

        await eventually(listed, timeout=60, what=f"{case['case_number']} overdue")

    async def summary(self, params: dict[str, str], who: dict[str, str]) -> dict[str, Any]:
        r = await self.client.get(
            self.stack.url("reports") + "/api/v1/stats/summary", params=params, headers=who
        )
        assert r.status_code == 200, r.text
        return {f["key"]: f for f in r.json()["figures"]}


def counts(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: figures[k]["value"] for k in EXPECTED}


async def test_every_figure_reconciles(tmp_path: Path, databases: Databases) -> None:
    async with (
        workbench_stack(tmp_path, databases) as stack,
        httpx.AsyncClient(timeout=60) as client,
    ):
        desk = Desk(stack, client)
        zrzy = bearer(stack, "qinghe.zrzy")
        jw = bearer(stack, "qinghe.jw.handler")
        start = datetime.fromisoformat(
            (await client.get(stack.url("reports") + "/healthz")).json()["now"]
        ).date()

        a = await desk.register(item("东岗村承包地被征收，补偿款未发放，请求督促落实。", 1))
        b = await desk.register(
            item("西岗村六户村民联名反映承包地征收补偿标准过低，请求复核。", 2, persons=6)
        )
        c = await desk.register(
            item("本人来访反映宅基地被征收后安置房迟迟未交付。", 3, channel="visit", persons=1)
        )
        d = await desk.register(
            item(
                "东岗村七位村民集体来访，反映征地补偿款被村干部截留。",
                4,
                channel="visit",
                persons=7,
                petitioners=[{"name": f"村民{i}", "phone": f"1390571200{i}"} for i in range(5)],
            )
        )
        e = await desk.register(
            item("来电咨询征地补偿政策的具体标准。", 5, channel="phone", caller_phone="13905711005")
        )
        for case, handler in ((a, zrzy), (b, zrzy), (c, zrzy), (d, desk.boss), (e, zrzy)):
            await desk.opened(case, handler)
        f = await desk.register(
            item(
                "再次反映安置房迟迟未交付的问题，至今没有答复。",
                3,
                channel="online",
                repeat_of=c["case_number"],
            )
        )
        h = await desk.register(
            item(
                "检举石门村村干部在低保评定中优亲厚友，把不符合条件的亲属纳入低保。",
                7,
                accusation=True,
                category="检举控告",
                matter_location_code="339922103201",
                petitioners=[{"name": "孙七", "phone": "13905710777"}],
            )
        )
        await desk.opened(h, jw)
        g = await desk.register(
            item(
                "滨江社区附近工厂夜间排放废气，气味刺鼻。",
                8,
                receiving_office_code="339900",
                matter_location_code="339902001001",
                category="环境污染",
            ),
            who="city.registrar",
        )
        for case in (a, c):
            await desk.step(case, "accept", zrzy)
        await desk.step(a, "reply", zrzy, REPLY)
        await desk.step(e, "decline", zrzy, {"reason": "属于咨询，不属于信访事项"})
        await desk.step(h, "accept", jw)
        await desk.step(h, "reply", jw, REPLY)

        await advance(stack, "31d")
        await desk.overdue(b, start)
        await desk.step(b, "accept", zrzy)
        await desk.step(b, "reply", zrzy, REPLY)
        await advance(stack, "40d")
        await desk.overdue(c, start)
        await desk.step(c, "reply", zrzy, REPLY)
        today = datetime.fromisoformat(
            (await client.get(stack.url("reports") + "/healthz")).json()["now"]
        ).date()
        period = {"from": start.isoformat(), "to": today.isoformat()}

        async def caught_up() -> Any:
            figures = await desk.summary(period, desk.boss)
            got = counts(figures)
            return figures if got == EXPECTED else None

        try:
            figures = await eventually(caught_up, timeout=90, what="the read model caught up")
        except AssertionError:
            got = counts(await desk.summary(period, desk.boss))
            pytest.fail(f"figures differ: {json.dumps(got, ensure_ascii=False)}")
        for key, value in RATES.items():
            assert figures[key]["value"] == value, (key, figures[key])
        assert figures["reply_ontime_rate"]["numerator"] == 3
        assert figures["reply_ontime_rate"]["denominator"] == 4

        # every count is the ledger of exactly its items (drill-down)
        for key, value in EXPECTED.items():
            if key in ("visit_persons", "collective_persons"):
                continue  # a sum of persons, not a count of items
            r = await client.get(
                stack.url("reports") + "/api/v1/ledger/items",
                params={**period, "measure": key},
                headers=desk.boss,
            )
            assert r.json()["total"] == value, key
        overdue = await client.get(
            stack.url("reports") + "/api/v1/ledger/items",
            params={**period, "measure": "overdue"},
            headers=desk.boss,
        )
        assert {row["case_number"] for row in overdue.json()["rows"]} == {
            b["case_number"],
            c["case_number"],
            d["case_number"],
        }

        # scope: the county sees none of 临江区's item, the city sees it too
        ledger = await client.get(
            stack.url("reports") + "/api/v1/ledger/items",
            params={**period, "page_size": 100},
            headers=desk.boss,
        )
        numbers = {row["case_number"] for row in ledger.json()["rows"]}
        assert g["case_number"] not in numbers and len(numbers) == 7
        city = await desk.summary(period, bearer(stack, "city.supervisor"))
        assert city["items"]["value"] == 8

        # the 积案 figure is supervision's own backlog in the county
        backlog = await client.get(stack.url("supervision") + "/api/v1/backlog", headers=desk.boss)
        assert figures["backlog_total"]["value"] == len(backlog.json())

        # the Excel ledger, downloaded through the workbench, read back
        from openpyxl import load_workbook

        async with chromium() as browser:
            page = await new_page(browser)
            query = f"from={period['from']}&to={period['to']}"
            await log_in(page, stack.url(WORKBENCH), "qinghe.supervisor", path=f"/stats?{query}")
            for key, value in EXPECTED.items():
                cell = page.locator(f'tr[data-figure="{key}"] td.num').first
                assert (await cell.inner_text()).strip() == str(value), key
            for key, value in RATES.items():
                cell = page.locator(f'tr[data-figure="{key}"] td.num').first
                assert (await cell.inner_text()).strip() == f"{value}%", key
            await shot(page, "stats-reconciled")
            async with page.expect_download() as info:
                await page.get_by_role("link", name="导出 Excel").first.click()
            saved = Path(await (await info.value).path())
            data = await asyncio.to_thread(saved.read_bytes)
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        header = [c.value for c in sheet[1]]
        rows = [
            dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=2, values_only=True)
        ]
        assert sheet.freeze_panes == "A2"
        assert len(rows) == EXPECTED["items"]
        by_number = {r["编号"]: r for r in rows}
        assert set(by_number) == numbers
        assert isinstance(by_number[a["case_number"]]["日期"], datetime | date)
        assert sum(1 for r in rows if r["渠道"] == "来访") == EXPECTED["visits"]
        assert sum(int(r["人数"]) for r in rows if r["渠道"] == "来访") == EXPECTED["visit_persons"]
        assert by_number[h["case_number"]]["信访人"] == "（检举人信息保密）"
        assert "孙七" not in json.dumps(rows, ensure_ascii=False, default=str)

        # a rebuild from the topics gives the same figures as the live read model
        cmd = [sys.executable, "-m", "xinfang_reports", "rebuild"]
        out = await asyncio.to_thread(
            subprocess.run, cmd, env=stack.env, capture_output=True, text=True, timeout=300
        )
        assert out.returncode == 0, out.stdout + out.stderr
        summary = json.loads(out.stdout)
        assert summary["partitions"] == len(projection.TOPICS) * PARTITIONS, summary  # all read
        rebuilt = await desk.summary(period, desk.boss)
        again = await client.get(
            stack.url("reports") + "/api/v1/ledger/items",
            params={**period, "page_size": 100},
            headers=desk.boss,
        )
        assert {k: v["value"] for k, v in rebuilt.items()} == {
            k: v["value"] for k, v in figures.items()
        }, (out.stdout, {r["case_number"] for r in again.json()["rows"]} ^ numbers)
        assert f["case_number"] in numbers and e["case_number"] in numbers
