"""The workbench's 登记 and 管理 pages in a real browser (issue #16): a registrar registers
through the one form (cascade, the classifier's suggestion, the ID check as typed, the open
case of the same petitioner before submitting) and gets the 回执; bad input comes back with the
API's field messages beside the fields, what was typed kept, nothing stored; an administrator
opens and closes an account and a faulty org tree is refused, every problem listed."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.run import demo_users
from tests.conftest import Databases
from tests.e2e.stacks import demo_account
from tests.e2e.workbench import chromium, log_in, new_page, workbench_stack
from tests.e2e.workbench import shot as page_shot

pytestmark = pytest.mark.e2e

ZHANG = "330922198001010017"
LI = "330922197512030023"
WRONG = "330922198001010018"  # ZHANG's number with a wrong check digit
CONTENT = "本人承包地于今年三月被征收，至今未收到征地补偿款，请求协调解决。"


async def shot(page: Any, name: str) -> None:
    """The whole page from its top (the sticky menu bar stays at the top of the picture)."""
    await page.evaluate("window.scrollTo(0, 0)")
    await page_shot(page, name)


async def token(intake: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=intake) as c:
        r = await c.post(
            "/api/v1/auth/token",
            data={"username": username, "password": demo_account(username)["password"]},
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])


async def search(intake: str, username: str, q: str) -> list[str]:
    bearer = await token(intake, username)
    async with httpx.AsyncClient(base_url=intake) as c:
        r = await c.get(
            "/api/v1/records", params={"q": q}, headers={"Authorization": f"Bearer {bearer}"}
        )
        assert r.status_code == 200, r.text
        return list(r.json()["case_ids"])


async def fill_person(page: Any, row: int, name: str, id_number: str) -> None:
    await page.locator(f"input[name='petitioners.{row}.name']").fill(name)
    await page.locator(f"input[name='petitioners.{row}.id_number']").fill(id_number)


async def test_registrar_registers_a_visit_and_sees_the_open_case_first(
    tmp_path: Path, databases: Databases
) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        base = stack.url("workbench")
        page = await new_page(browser)
        await log_in(page, base, "qinghe.registrar")
        await page.wait_for_url(re.compile(r"/register$"))
        form = page.locator("#register-form")
        # 来访 is the default; the desk's office is the registrar's own (by name)
        assert await page.get_by_role("radio", name="来访").is_checked()
        office = page.locator("#office option:checked")
        assert (await office.inner_text()).strip() == "清河县信访局"
        await page.locator("#persons").fill("2")

        # the ID is checked as it is typed, before anything is sent
        await fill_person(page, 0, "张三", WRONG)
        row0 = page.locator(".person[data-row='0'] .id-check")
        await row0.filter(has_text="身份证号码校验位错误").wait_for()
        await shot(page, "wb-register-id-check")
        await page.locator("input[name='petitioners.0.id_number']").fill(ZHANG)
        await row0.filter(has_text="格式正确").wait_for()
        await page.locator("input[name='petitioners.0.phone']").fill("13800138000")
        await page.get_by_role("button", name="添加信访人").click()
        await fill_person(page, 1, "李四", LI)
        await page.locator("input[name='petitioners.0.representative']").check()
        await page.locator("input[name='petitioners.1.representative']").check()

        # the place: township → village, both by name
        await page.locator("#place1").select_option(label="清河镇")
        village = page.locator("#place2 option", has_text="东岗村")
        await village.wait_for(state="attached")
        await page.locator("#place2").select_option(label="东岗村")

        # the classifier's suggestion appears from the text
        await page.locator("#content").fill(CONTENT)
        suggestion = page.locator("#suggestion")
        await suggestion.filter(has_text="系统建议类别").wait_for()
        assert "土地征收补偿" in await suggestion.inner_text()
        await suggestion.get_by_role("button", name=re.compile("采用：土地征收补偿")).click()
        assert (await page.locator("#category option:checked").inner_text()) == "土地征收补偿"
        await shot(page, "wb-register-form")

        await form.get_by_role("button", name=re.compile("^登记")).click()
        receipt = page.locator("#receipt")
        await receipt.wait_for()
        case_number = (await page.locator("#case-number").inner_text()).strip()
        query_code = (await page.locator("#query-code").inner_text()).strip()
        assert re.match(r"^\S{6,}$", case_number) and re.match(r"^\S{4,}$", query_code)
        text = await receipt.inner_text()
        for seen in ("信访事项受理登记回执", "来访", "清河县信访局", "张三、李四", "办理期限"):
            assert seen in text, (seen, text)
        await shot(page, "wb-register-receipt")

        # one key: Enter on the receipt opens an empty form for the next one
        assert await page.evaluate("document.activeElement.id") == "next"
        await page.keyboard.press("Enter")
        await page.wait_for_url(re.compile(r"/register$"))
        assert await page.locator("input[name='petitioners.0.name']").input_value() == ""

        # the same petitioner again: the open case is shown while typing, and before storing
        await fill_person(page, 0, "张三", ZHANG)
        live = page.locator("#dup-live")
        await live.filter(has_text=case_number).wait_for()
        await page.locator("#content").fill("征地补偿款仍未发放，再次反映，请求尽快解决。")
        await page.get_by_role("button", name=re.compile("^登记")).click()
        warning = page.locator("#dup-server")
        await warning.filter(has_text=case_number).wait_for()
        assert "该信访人已有未办结的信访事项" in await warning.inner_text()
        # what was typed is still there
        assert (
            await page.locator("#content").input_value()
            == "征地补偿款仍未发放，再次反映，请求尽快解决。"
        )
        await shot(page, "wb-register-open-case")
        await warning.get_by_role("button", name="关联到此件登记").click()
        await page.locator("#receipt").wait_for()
        second = (await page.locator("#case-number").inner_text()).strip()
        assert second != case_number
        intake = stack.url("intake")
        assert len(await search(intake, "qinghe.supervisor", "张三")) == 2


async def test_bad_input_keeps_what_was_typed_and_stores_nothing(
    tmp_path: Path, databases: Databases
) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        base = stack.url("workbench")
        page = await new_page(browser)
        await log_in(page, base, "qinghe.registrar", path="/register")
        await fill_person(page, 0, "王五", WRONG)
        await page.locator("input[name='petitioners.0.address']").fill("清河县柳塘乡")
        await page.locator("#title").fill("补偿问题")
        await page.get_by_role("button", name=re.compile("^登记")).click()
        id_field = page.locator(
            "label.field.invalid", has=page.locator("input[name='petitioners.0.id_number']")
        )
        await id_field.wait_for()
        assert "身份证号码校验位错误" in await id_field.locator(".field-error").inner_text()
        content_field = page.locator("label.field.invalid", has=page.locator("#content"))
        content_error = await content_field.locator(".field-error").inner_text()
        assert re.search(r"[\u4e00-\u9fff]", content_error), content_error
        # kept as typed
        assert await page.locator("input[name='petitioners.0.name']").input_value() == "王五"
        assert await page.locator("input[name='petitioners.0.id_number']").input_value() == WRONG
        assert await page.locator("#title").input_value() == "补偿问题"
        assert "提交的数据有误" in await page.locator(".problem").first.inner_text()
        await shot(page, "wb-register-errors")

        # 来电: a caller's number that is no phone number is said beside that field
        await page.get_by_role("radio", name="来电").check()
        await page.locator("input[name='caller_phone']").fill("12345")
        await page.locator("input[name='petitioners.0.id_number']").fill(ZHANG)
        await page.locator("#content").fill(CONTENT)
        await page.get_by_role("button", name=re.compile("^登记")).click()
        phone_field = page.locator(
            "label.field.invalid", has=page.locator("input[name='caller_phone']")
        )
        await phone_field.wait_for()
        assert re.search(r"[\u4e00-\u9fff]", await phone_field.inner_text())
        assert await page.get_by_role("radio", name="来电").is_checked()
        assert await page.locator("input[name='caller_phone']").input_value() == "12345"
        await shot(page, "wb-register-errors-phone")
        intake = stack.url("intake")
        assert await search(intake, "qinghe.supervisor", "王五") == []


async def test_admin_accounts_and_a_faulty_org_tree(
    tmp_path: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a county deployment: 清河县's administrator is the one who loads its tree
    monkeypatch.setenv("XF_TOPIC_SCOPES", "339922")
    users = tmp_path / "users.yaml"
    county = [u for u in demo_users() if str(u["org_code"]).startswith("339922")]
    await asyncio.to_thread(users.write_text, yaml.safe_dump(county, allow_unicode=True), "utf-8")
    env = {"XF_ORG_SCOPE": "339922", "XF_INTAKE_USERS_FILE": str(users)}
    async with workbench_stack(tmp_path, databases, env) as stack, chromium() as browser:
        base = stack.url("workbench")
        page = await new_page(browser)
        await log_in(page, base, "qinghe.admin", path="/admin/users")
        await page.wait_for_url(re.compile(r"/admin/users$"))
        table = page.locator("#users")
        assert "清河县信访局登记员" in await table.inner_text()
        roles = set(await table.locator("tbody td:nth-child(3)").all_inner_texts())
        assert roles <= {"登记员", "承办人", "督办员", "包案领导", "管理员"}, roles  # no codes

        # a refused account: the API's message beside the field, what was typed kept
        create = page.locator("#create-user")
        await create.get_by_label("用户名").fill("Bad Name")
        await create.get_by_label("姓名").fill("新登记员")
        await create.get_by_label("初始密码").fill("short")
        await create.get_by_label("角色").select_option(label="登记员")
        await create.get_by_label("所属单位或部门").select_option("339922102")
        await create.get_by_role("button", name="创建账号").click()
        await page.locator("#create-user .field-error").first.wait_for()
        assert await create.get_by_label("姓名").input_value() == "新登记员"
        await shot(page, "wb-admin-users-errors")

        await create.get_by_label("用户名").fill("liutang.desk2")
        await create.get_by_label("初始密码").fill("desk2-password")
        await create.get_by_role("button", name="创建账号").click()
        await page.locator(".success", has_text="已创建账号 liutang.desk2").wait_for()
        row = page.locator("tr[data-username='liutang.desk2']")
        assert "柳塘乡" in await row.inner_text() and "在用" in await row.inner_text()
        await shot(page, "wb-admin-users")

        # the new account logs in to the workbench
        other = await new_page(browser)
        await other.goto(base + "/login")
        await other.get_by_label("用户名").fill("liutang.desk2")
        await other.get_by_label("密码").fill("desk2-password")
        await other.get_by_role("button", name="登录").click()
        await other.locator(".who-name", has_text="（liutang.desk2）").wait_for()

        # disabled: it can no longer log in (and its session ends)
        page.once("dialog", lambda d: d.accept())
        await row.get_by_role("button", name="停用").click()
        await page.locator(".success", has_text="已停用账号 liutang.desk2").wait_for()
        assert "已停用" in await page.locator("tr[data-username='liutang.desk2']").inner_text()
        await other.context.clear_cookies()
        await other.goto(base + "/login")
        await other.get_by_label("用户名").fill("liutang.desk2")
        await other.get_by_label("密码").fill("desk2-password")
        await other.get_by_role("button", name="登录").click()
        await other.locator(".problem").wait_for()
        assert await other.locator(".who-name").count() == 0

        # the org tree: downloaded, and a faulty one refused with every problem in Chinese
        await page.get_by_role("link", name="组织机构").click()
        version = (await page.locator("#tree-version").inner_text()).strip()
        async with page.expect_download() as dl:
            await page.get_by_role("link", name=re.compile("下载当前组织机构树")).click()
        download = await (await dl.value).path()
        source = await asyncio.to_thread(Path(download).read_text, encoding="utf-8")
        assert "units:" in source
        faulty = source.replace("version:", "version: broken-", 1)
        faulty = faulty.replace("parent: '339922101'", "parent: '339922999'", 1).replace(
            'parent: "339922101"', 'parent: "339922999"', 1
        )
        faulty = re.sub(r"parent: ['\"]?339922101['\"]?", "parent: '339922999'", faulty, count=1)
        path = tmp_path / "faulty.yaml"
        await asyncio.to_thread(path.write_text, faulty, encoding="utf-8")
        await page.locator("input[name=file]").set_input_files(str(path))
        await page.get_by_role("button", name="校验并加载").click()
        problems = page.locator("#tree-problems")
        await problems.wait_for()
        text = await problems.inner_text()
        assert "组织机构树校验失败，未作任何修改" in text
        assert "上级单位 339922999 不存在" in text and "上级单位" in text
        assert "units[" not in text  # where, in Chinese
        await shot(page, "wb-admin-org-tree-errors")
        await page.goto(base + "/admin/org-tree")
        assert (await page.locator("#tree-version").inner_text()).strip() == version
        await shot(page, "wb-admin-org-tree")
