"""待办 in the workbench (issue #16), in real Chromium at 1366×768: a petition registered at
清河县 (土地征收补偿) reaches 清河县自然资源和规划局; its handler finds it in 待办 by the
petitioner's name and by the case number, opens it (content, petitioners, deadlines), accepts
it, asks for the extension (a missing reason is named beside the field and the typed days stay),
a leader of the county approves it, and the handler writes the 信访处理意见书. A step the law
no longer allows (a stale page's 受理) is refused in Chinese beside its form. A handler of
another county sees no row and gets the 404 page on the case's address. An item that is not the
unit's is sent back with an objection (a reason is required) and leaves its 待办."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Databases, eventually
from tests.e2e.stacks import demo_account
from tests.e2e.workbench import chromium, log_in, new_page, shot, workbench_stack

pytestmark = pytest.mark.e2e

OTHER = {
    "channel": "letter",
    "petitioners": [{"name": "钱六", "phone": "13905710123", "address": "清河县清河镇西岗村"}],
    "receiving_office_code": "339922",
    "matter_location_code": "339922101202",
    "category": "土地征收补偿",
    "content": "西岗村集体林地被征用后，林木补偿标准一直没有公示，请求公开补偿方案。",
}
LAND = {
    "channel": "visit",
    "petitioners": [{"name": "赵四海", "phone": "13905710099", "address": "清河县清河镇"}],
    "persons": 1,
    "receiving_office_code": "339922",
    "matter_location_code": "339922101201",
    "matter_address": "清河县清河镇",
    "category": "土地征收补偿",
    "title": "承包地被征收后补偿款未到位",
    "content": "本人承包地被征收用于县道建设，征地补偿款至今仍有3万元未发放，请求督促落实。",
}


async def _token(client: httpx.AsyncClient, intake: str, username: str) -> dict[str, str]:
    r = await client.post(
        intake + "/api/v1/auth/token",
        data={"username": username, "password": demo_account(username)["password"]},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _register_and_wait_routed(stack: Any, body: dict[str, Any] = LAND) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        desk = await _token(client, stack.url("intake"), "qinghe.registrar")
        r = await client.post(stack.url("intake") + "/api/v1/petitions", json=body, headers=desk)
        assert r.status_code == 201, r.text
        created: dict[str, Any] = r.json()
        handler = await _token(client, stack.url("intake"), "qinghe.zrzy")

        async def routed() -> bool:
            sup = await client.get(
                stack.url("supervision") + f"/api/v1/cases/{created['case_id']}", headers=handler
            )
            rec = await client.get(
                stack.url("intake") + f"/api/v1/records/{created['case_id']}", headers=handler
            )
            return sup.status_code == 200 and rec.status_code == 200

        await eventually(routed, timeout=60, interval=0.5, what="routed to 自然资源和规划局")
        return created


async def _open_form(page: Any, form_id: str) -> Any:
    form = page.locator(f"#{form_id}")
    await page.locator(f"details:has(#{form_id}) > summary").click()
    await form.wait_for()
    return form


async def test_handler_finds_accepts_extends_and_replies(
    tmp_path: Path, databases: Databases
) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        created = await _register_and_wait_routed(stack)
        number, case_id = created["case_number"], created["case_id"]
        wb = stack.url("workbench")

        # --- 待办: found by the petitioner's name and by the case number ------------------
        page = await new_page(browser)
        await log_in(page, wb, "qinghe.zrzy", path="/todo")
        assert page.url.endswith("/todo")
        row = page.locator(f"tr[data-case='{number}']")
        await row.wait_for()
        await page.get_by_label("搜索").fill("赵四海")
        await page.get_by_role("button", name="查询").click()
        await row.wait_for()
        assert await page.locator("#total").inner_text() == "1"
        assert "土地征收补偿" in await row.inner_text()
        days = row.locator(".days")
        assert await days.get_attribute("class") in ("days ok", "days warn")
        assert "剩" in await days.inner_text() or "今日到期" in await days.inner_text()
        await shot(page, "wb-todo")
        await page.get_by_label("搜索").fill(number)
        await page.get_by_role("button", name="查询").click()
        await row.wait_for()
        assert await page.locator("#total").inner_text() == "1"
        await page.get_by_label("搜索").fill("没有这样的信访人")
        await page.get_by_role("button", name="查询").click()
        await page.get_by_text("没有符合条件的案件").wait_for()

        # --- the case page ---------------------------------------------------------------
        await page.goto(wb + f"/todo?q={number}")
        await row.get_by_role("link", name=number).click()
        await page.get_by_role("heading", name=f"案件 {number}").wait_for()
        body = await page.locator("main").inner_text()
        assert LAND["content"] in body
        assert "赵四海" in body and "13905710099" in body
        assert "清河县自然资源和规划局" in body
        await shot(page, "wb-case")
        assert "受理告知" in body  # the deadline, by name
        timeline = await page.locator(".timeline").inner_text()
        assert "→ 清河县自然资源和规划局" in timeline
        assert "重复信访" not in body  # no repeat of it yet
        for code in ("routed", "accepted", "339922-zrzy", "acceptance_notice"):
            assert code not in body, code

        stale = await page.context.new_page()  # the same case in a second tab, before 受理
        await stale.goto(page.url)
        await stale.locator("#act-accept").wait_for(state="attached")

        form = await _open_form(page, "act-accept")
        await shot(page, "wb-case-accept")
        await form.get_by_role("button", name="受理").click()
        await page.get_by_text("已受理", exact=True).wait_for()
        assert await page.locator("#act-accept").count() == 0  # no longer offered

        # the stale tab's 受理: refused in Chinese beside the form (409)
        form = await _open_form(stale, "act-accept")
        await form.get_by_role("button", name="受理").click()
        problem = stale.locator("#act-accept .problem")
        await problem.wait_for()
        assert "不能受理" in await problem.inner_text()
        assert await stale.locator("#act-accept button").count() == 0  # not offered again
        await shot(stale, "wb-case-409")
        await stale.close()

        # --- the extension: a missing reason is named, the typed days stay ---------------
        form = await _open_form(page, "act-request_extension")
        await form.get_by_label("延长天数").fill("15")
        await form.get_by_role("button", name="申请延期").click()
        form = page.locator("#act-request_extension")
        await form.locator(".field-error").wait_for()
        assert await form.get_by_label("延长天数").input_value() == "15"
        await shot(page, "wb-case-extension-refused")
        await form.get_by_label("延期理由").fill("涉及多个部门核实补偿款发放，情况复杂")
        await form.get_by_role("button", name="申请延期").click()
        await page.get_by_text("已提交延期申请").wait_for()

        leader = await new_page(browser)
        await log_in(leader, wb, "qinghe.leader", path=f"/cases/{case_id}")
        form = await _open_form(leader, "act-extend")
        assert await form.get_by_label("延长天数").input_value() == "15"
        assert "清河县分管信访工作的副县长" in await form.inner_text()  # the approver
        await shot(leader, "wb-case-extend")
        await form.get_by_role("button", name="延期").click()
        await leader.get_by_text("已批准延期").wait_for()
        await leader.context.close()

        # --- the 信访处理意见书 ------------------------------------------------------------
        await page.reload()
        assert "已延期" in await page.locator("main").inner_text()
        form = await _open_form(page, "act-reply")
        await form.get_by_label("处理意见").select_option("予以支持")
        await form.get_by_label("查明的事实").fill("经核查，征地补偿款尚有3万元未拨付到户。")
        await form.get_by_label("理由").first.fill("补偿款应足额及时支付。")
        await form.get_by_label("法律依据").fill("《中华人民共和国土地管理法》第四十八条")
        await shot(page, "wb-case-reply")
        await form.get_by_role("button", name="出具处理意见书").click()
        await page.get_by_text("已出具信访处理意见书").wait_for()
        body = await page.locator("main").inner_text()
        assert "予以支持" in body and "第四十八条" in body
        await shot(page, "wb-case-replied")
        await page.context.close()

        # --- another county: no row, and the 404 page on the case ------------------------
        other = await new_page(browser)
        await log_in(other, wb, "linjiang.rsj", path=f"/todo?q={number}")
        await other.get_by_text("没有符合条件的案件").wait_for()
        r = await other.goto(wb + f"/cases/{case_id}")
        assert r is not None and r.status == 404
        assert "不存在或不在您的管辖范围内" in await other.locator("main").inner_text()
        await shot(other, "wb-case-404")

        # --- an objection (不属本单位职责) within 5 working days ---------------------------
        second = await _register_and_wait_routed(stack, OTHER)
        page = await new_page(browser)
        await log_in(page, wb, "qinghe.zrzy", path=f"/cases/{second['case_id']}")
        form = await _open_form(page, "act-objection")
        assert "5 个工作日内" in await form.inner_text()
        await form.get_by_role("button", name="提出异议").click()  # no reason
        form = page.locator("#act-objection")
        await form.locator(".field-error").wait_for()
        await form.get_by_label("异议理由").fill("林地补偿属林业部门职责，不属本局办理范围。")
        await form.get_by_role("button", name="提出异议").click()
        await page.get_by_text("已提出异议，案件退回交办机关重新分办").wait_for()
        assert page.url.split("?")[0].endswith("/todo")

        async def gone_from_todo() -> bool:
            await page.goto(wb + f"/todo?q={second['case_number']}")
            return await page.locator(f"tr[data-case='{second['case_number']}']").count() == 0

        await eventually(gone_from_todo, timeout=30, interval=1, what="back at the office")
