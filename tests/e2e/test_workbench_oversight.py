"""The workbench's 督办 and 包案领导 pages in a real browser, against the whole system: an
overdue case in the supervisor's overdue view (red), the printable 超期通报, an unroutable item
in the triage queue routed by hand (改派), a 包案领导 picked from the directory who then sees
the case on their home, a collective visit's alert signed with a note (and the button gone
after a reload), a 督办 order by hand with a feedback date; a sealed informant stays sealed to the handler and
is revealed, with a reason, to the 纪委 leader; bad input keeps what was typed."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.run import SERVICES, WORKBENCH, Stack, login
from tests.conftest import Databases, eventually
from tests.e2e.stacks import demo_account
from tests.e2e.workbench import chromium, log_in, new_page, shot, workbench_stack

pytestmark = pytest.mark.e2e
ZRZY = "清河县自然资源和规划局"


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


async def register(client: httpx.AsyncClient, stack: Stack, body: dict[str, Any]) -> Any:
    r = await client.post(stack.url("intake") + "/api/v1/petitions", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def advance(stack: Stack, span: str) -> None:
    cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance", span, "--json"]
    for name in SERVICES:
        cmd += ["--wait", stack.url(name) + "/healthz"]
    out = await asyncio.to_thread(
        subprocess.run, cmd, env=stack.env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr


async def test_supervisor_and_leader(tmp_path: Path, databases: Databases) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        wb = stack.url(WORKBENCH)
        sup_url = stack.url("supervision")
        desk = {"Authorization": f"Bearer {token_of(stack, 'qinghe.registrar')}"}
        boss = {"Authorization": f"Bearer {token_of(stack, 'qinghe.supervisor')}"}
        lead = {"Authorization": f"Bearer {token_of(stack, 'qinghe.leader')}"}
        async with httpx.AsyncClient(timeout=30, headers=desk) as client:
            land = await register(
                client,
                stack,
                petition(
                    "西岗村承包地被征收，补偿款至今未足额发放，请求督促落实。",
                    category="土地征收补偿",
                    title="征地补偿款未足额发放",
                ),
            )
            vague = await register(client, stack, petition("想咨询一下相关政策，麻烦回复。"))

            async def routed() -> Any:
                r = await client.get(f"{sup_url}/api/v1/cases/{land['case_id']}", headers=boss)
                return r.json() if r.status_code == 200 and r.json()["deadlines"] else None

            case = await eventually(routed, timeout=40, what="the land case in supervision")
            assert case["unit_name"] == ZRZY

            async def in_triage() -> Any:
                r = await client.get(stack.url("routing") + "/api/v1/triage", headers=boss)
                return [t for t in r.json() if t["case_id"] == vague["case_id"]]

            await eventually(in_triage, timeout=40, what="the vague item in triage")

            # past every deadline of the land case: the sweep marks it overdue
            await advance(stack, "20d")

            async def overdue() -> Any:
                r = await client.get(
                    f"{sup_url}/api/v1/worklist", params={"overdue": "true"}, headers=boss
                )
                return [i for i in r.json()["items"] if i["case_id"] == land["case_id"]]

            await eventually(overdue, timeout=40, what="the land case overdue")
            health = (await client.get(f"{sup_url}/healthz")).json()
            today = datetime.fromisoformat(health["now"]).date()

        # --- the supervisor ---------------------------------------------------------------------
        page = await new_page(browser)
        await log_in(page, wb, "qinghe.supervisor")
        assert page.url.endswith("/supervise")
        row = page.locator("#worklist tr", has_text=land["case_number"])
        await row.wait_for()
        assert "row-late" in (await row.get_attribute("class") or "")
        assert (await row.locator(".days.late").inner_text()).startswith("已超期")
        assert "已超期" in await row.inner_text() and ZRZY in await row.inner_text()
        await shot(page, "wb-supervise")
        await page.get_by_role("link", name="本周到期").click()
        await page.locator("#worklist tr", has_text=land["case_number"]).wait_for()

        # the weekly 超期通报, printable
        await page.goto(wb + "/reports/overdue")
        report = page.locator("article.report")
        assert land["case_number"] in await report.inner_text()
        assert ZRZY in await report.inner_text()
        assert await page.locator("button[data-print]").inner_text() == "打印"
        await shot(page, "wb-report-overdue")
        await page.emulate_media(media="print")
        await shot(page, "wb-report-overdue-print")
        assert not await page.locator("header.top").is_visible()
        await page.emulate_media(media="screen")

        # the triage queue: bad input first (a one-character reason), then routed by hand
        await page.goto(wb + "/triage")
        item = page.locator("#triage tr", has_text=vague["case_number"])
        await item.wait_for()
        await shot(page, "wb-triage")
        await item.get_by_label("改派至").select_option(label=f"{ZRZY}（职能部门）")
        await item.get_by_label("改派理由").fill("改")
        await item.get_by_role("button", name="改派").click()
        item = page.locator("#triage tr", has_text=vague["case_number"])
        assert await item.locator(".field-error").count() >= 1
        assert await item.get_by_label("改派理由").input_value() == "改"
        await shot(page, "wb-triage-refused")
        await item.get_by_label("改派理由").fill("属征地补偿事项，由自然资源部门办理")
        await item.get_by_role("button", name="改派").click()
        await page.locator(".success", has_text=vague["case_number"]).wait_for()
        assert await page.locator("#triage tr", has_text=vague["case_number"]).count() == 0

        # the 包案领导, picked from the directory
        await page.goto(f"{wb}/cases/{land['case_id']}")
        # the case page counts days on the services' clock, as the lists do: overdue here too
        deadlines = page.locator("section[aria-labelledby=h-deadlines]")
        assert "已超期" in await deadlines.inner_text()
        assert await deadlines.locator(".days.late").count() >= 1
        await page.locator("#oversight").get_by_role("link", name="确定包案领导").click()
        await page.get_by_label("包案领导").select_option("qinghe.leader")
        await shot(page, "wb-leader-form")
        await page.get_by_role("button", name="确定包案领导").click()
        await page.locator("#case-leader", has_text="清河县分管信访工作的副县长").wait_for()

        # --- the leader: the case on their home, an alert to sign -------------------------------
        async with httpx.AsyncClient(timeout=30, headers=desk) as client:
            visit = await register(
                client,
                stack,
                petition(
                    "西岗村七户村民集体反映征地补偿款未足额发放。",
                    channel="visit",
                    persons=7,
                    category="土地征收补偿",
                ),
            )

            async def alert() -> Any:
                r = await client.get(stack.url("notify") + "/api/v1/alerts", headers=lead)
                return [a for a in r.json() if a["case_id"] == visit["case_id"]]

            await eventually(alert, timeout=40, what="the collective visit's alert")
        chief = await new_page(browser)
        await log_in(chief, wb, "qinghe.leader")
        assert chief.url.endswith("/leader")
        await chief.locator("#worklist tr", has_text=land["case_number"]).wait_for()
        await shot(chief, "wb-leader")
        await chief.goto(wb + "/alerts")
        card = chief.locator(".alert-card", has_text=visit["case_number"])
        await card.get_by_label("处置意见").fill("已安排信访局接待，自然资源局到场答复")
        await shot(chief, "wb-alerts")
        await card.get_by_role("button", name="签收").click()
        await chief.locator(".success", has_text=visit["case_number"]).wait_for()
        await chief.reload()
        signed = chief.locator("#alerts-signed tr", has_text=visit["case_number"])
        assert "清河县分管信访工作的副县长" in await signed.inner_text()
        assert "自然资源局到场答复" in await signed.inner_text()
        assert await chief.locator(".alert-card", has_text=visit["case_number"]).count() == 0
        assert await chief.get_by_role("button", name="签收").count() == 0
        await shot(chief, "wb-alerts-signed")

        # --- a 督办 order by hand: a date in the past is refused beside its field ----------------
        await page.goto(f"{wb}/cases/{land['case_id']}")
        await page.locator("#oversight summary", has_text="发出督办").click()
        reason = "请于反馈期限前书面报告补偿款发放进度"
        form = page.locator("#order-form")
        await form.get_by_label("督办事由").fill(reason)
        await form.locator("[name=feedback_due]").fill((today - timedelta(days=1)).isoformat())
        await form.get_by_role("button", name="发出督办").click()
        form = page.locator("#order-form")
        await form.locator(".field-error").first.wait_for()
        assert await form.get_by_label("督办事由").input_value() == reason
        await shot(page, "wb-order-refused")
        due = today + timedelta(days=7)
        await form.locator("[name=feedback_due]").fill(due.isoformat())
        await form.get_by_role("button", name="发出督办").click()
        await page.wait_for_url(f"{wb}/cases/{land['case_id']}")
        body = await page.inner_text("main")
        assert f"{due.year}年{due.month}月{due.day}日" in body
        await shot(page, "wb-case-oversight")
        print(json.dumps({"today": date.isoformat(today)}))

        # --- a sealed informant: sealed to the handler, revealed to the 纪委 leader with a reason
        accusation = petition(
            "检举石门村村干部在低保评定中优亲厚友，把不符合条件的亲属纳入低保。",
            accusation=True,
            category="检举控告",
            matter_location_code="339922103201",
            petitioners=[{"name": "孙七", "phone": "13905710777"}],
        )
        async with httpx.AsyncClient(timeout=30, headers=desk) as client:
            sealed = await register(client, stack, accusation)
            jw = {"Authorization": f"Bearer {token_of(stack, 'qinghe.jw.handler')}"}

            async def at_the_jw() -> bool:  # the 纪委监委's own handler can read it
                r = await client.get(f"{sup_url}/api/v1/cases/{sealed['case_id']}", headers=jw)
                return r.status_code == 200

            await eventually(at_the_jw, timeout=40, what="the accusation at 纪委监委")
        handler = await new_page(browser)
        await log_in(handler, wb, "qinghe.jw.handler", path=f"/cases/{sealed['case_id']}")
        body = await handler.inner_text("main")
        assert "孙七" not in body and "13905710777" not in body
        assert "查阅检举人身份" not in body  # a handler may not
        await handler.context.close()
        chief_jw = await new_page(browser)
        await log_in(chief_jw, wb, "qinghe.jw", path=f"/cases/{sealed['case_id']}")
        assert "孙七" not in await chief_jw.inner_text("main")
        chief_jw.on("dialog", lambda d: asyncio.ensure_future(d.accept()))  # "记入审计" confirm
        await chief_jw.get_by_role("link", name="查阅检举人身份").click()
        await chief_jw.get_by_label("查阅理由").fill("查")  # too short: refused, nothing shown
        await chief_jw.get_by_role("button", name="查阅检举人身份").click()
        await chief_jw.locator(".field-error").first.wait_for()
        assert await chief_jw.locator("#informants").count() == 0
        await chief_jw.get_by_label("查阅理由").fill("核查举报线索，需联系检举人补充材料")
        await chief_jw.get_by_role("button", name="查阅检举人身份").click()
        informants = chief_jw.locator("#informants")
        await informants.wait_for()
        assert "孙七" in await informants.inner_text()
        await shot(chief_jw, "wb-reveal")
