"""The workbench's session in real Chromium: logging in through the form shows who, which unit
and which role; an expired session goes back to the login form and then to the page the user
was on; another site's post is refused; a new alert appears on the page without a reload and the
unread count goes up; logging out ends the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_shared.settings import CommonSettings

from deploy.run import WORKBENCH, login
from tests.conftest import Databases
from tests.e2e.stacks import demo_account
from tests.e2e.workbench import chromium, log_in, new_page, shot, workbench_stack

pytestmark = pytest.mark.e2e


def collective_visit(persons: int) -> dict[str, object]:
    return {
        "channel": "来访",
        "petitioners": [
            {"name": "李四", "id_number": "11010519491231002X", "phone": "13800138001"}
        ],
        "persons": persons,
        "receiving_office_code": "339922",
        "matter_location_code": "339922102201",
        "category": "土地征收补偿",
        "content": "柳树湾村村民集体反映土地征收补偿款未公开发放，要求公开账目。",
    }


async def test_login_expiry_cross_site_live_alerts_and_logout(
    tmp_path: Path, databases: Databases
) -> None:
    async with workbench_stack(tmp_path, databases) as stack, chromium() as browser:
        base = stack.url(WORKBENCH)
        page = await new_page(browser)

        # a page asked for before logging in: the form, then that very page
        await log_in(page, base, "qinghe.supervisor", path="/messages")
        assert page.url == base + "/messages"
        header = await page.locator("header").inner_text()
        assert "清河县信访局督办员（qinghe.supervisor）" in header
        assert "清河县" in header and "督办员" in header
        assert "supervisor" not in header.replace("qinghe.supervisor", "")  # no raw role code
        await shot(page, "wb-messages")

        # a collective visit registered elsewhere: the alert arrives on an open page, no reload
        await page.goto(base + "/supervise")
        await page.wait_for_timeout(2000)  # the stream is open
        desk = demo_account("qinghe.registrar")
        token = login(stack.url("intake"), desk["username"], desk["password"])
        async with httpx.AsyncClient() as client:
            r = await client.post(
                stack.url("intake") + "/api/v1/petitions",
                json=collective_visit(8),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 201, r.text
        case_number = r.json()["case_number"]
        toast = page.locator(".toast", has_text="集体访")
        await toast.first.wait_for(timeout=20_000)
        assert case_number in await page.locator("#toasts").inner_text()
        badge = page.locator("#unread")
        assert int(await badge.inner_text()) >= 1
        await shot(page, "wb-live-alert")
        # the message page lists it, and what it shows is read
        await page.goto(base + "/messages")
        assert case_number in await page.locator("#messages").inner_text()
        await page.goto(base + "/supervise")
        await page.wait_for_timeout(2000)
        assert await badge.is_hidden()

        # another site's post is refused, and the session still works
        cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
        async with httpx.AsyncClient(base_url=base, cookies=cookies) as client:
            r = await client.post("/logout", headers={"Origin": "http://evil.example"})
            assert r.status_code == 403
            assert "拒绝来自其他网站" in r.text
        await page.goto(base + "/messages")
        assert "qinghe.supervisor" in await page.locator(".who-name").inner_text()

        # an expired session: the login form says so, then back to the same page
        account = demo_account("qinghe.supervisor")
        old = issue_token(
            Principal(
                username=account["username"],
                name=account["display_name"],
                role=Role(account["role"]),
                org_code=account["org_code"],
            ),
            secret=CommonSettings().auth_secret,
            ttl_s=60,
            now=datetime.now(UTC) - timedelta(hours=2),
        )
        await page.context.add_cookies(
            [{"name": "xf_workbench_session", "value": old, "url": base}]
        )
        await page.goto(base + "/messages?x=1")
        await page.get_by_text("登录已过期，请重新登录").wait_for()
        await shot(page, "wb-login-expired")
        await page.get_by_label("用户名").fill(account["username"])
        await page.get_by_label("密码").fill(account["password"])
        await page.get_by_role("button", name="登录").click()
        await page.locator(".who-name").wait_for()
        assert page.url == base + "/messages?x=1"

        # a wrong password: the issuer's Chinese words, the username kept
        other = await new_page(browser)
        await other.goto(base + "/login")
        await other.get_by_label("用户名").fill("qinghe.supervisor")
        await other.get_by_label("密码").fill("wrong-password")
        await other.get_by_role("button", name="登录").click()
        await other.get_by_text("用户名或密码错误").wait_for()
        assert await other.get_by_label("用户名").input_value() == "qinghe.supervisor"
        await shot(other, "wb-login-failed")

        # logging out ends it: the next page asks to log in
        await page.get_by_role("button", name="退出").click()
        await page.get_by_role("button", name="登录").wait_for()
        await page.goto(base + "/messages")
        await page.get_by_role("button", name="登录").wait_for()
        assert "/login" in page.url
