"""Notify's API asks who is calling and shows each caller its own org subtree; the dashboard logs
in through a form that notify forwards to the real intake app. In-process apps on the real
broker and a real database (SQLite, or PostgreSQL with XF_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app as intake_app
from xinfang_notify.config import NotifySettings
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_shared.auth.service import seed_users
from xinfang_shared.events import CollectiveAlert

from tests.apps import running, service_token_for_tests
from tests.conftest import Databases, eventually, free_port
from tests.integration.test_notify_delivery import notify, send
from tests.kafka_helpers import TopicReader
from tests.peers import CollectingHandler, FakeProviders

SECRET = "notify-auth-test-secret-0123456789-abcdef"
LINJIANG = Principal("linjiang.duban", "临江区督办员", Role.SUPERVISOR, "339902")  # 临江区
QINGHE = Principal("qinghe.duban", "清河县督办员", Role.SUPERVISOR, "339922")  # 清河县
ZRZY = Principal("qinghe.zrzy", "清河县自然资源局承办人", Role.HANDLER, "339922-zrzy")
OFFICES = {"339922": "清河县信访局", "339902": "临江区信访局"}
PLACES = {"339922": "339922101201", "339902": "339902001001"}


def collective(office: str) -> CollectiveAlert:
    return CollectiveAlert(
        case_id=str(uuid.uuid4()),
        case_number=f"{office}-2026-{uuid.uuid4().int % 10**6:06d}",
        persons=8,
        threshold=5,
        receiving_office_code=office,
        receiving_office_name=OFFICES[office],
        matter_location_code=PLACES[office],
        summary="村民反映征地补偿款未足额发放",
        raised_at=datetime.now(UTC),
    )


def bearer(
    app: FastAPI, who: Principal, ttl_s: int = 3600, now: datetime | None = None
) -> dict[str, str]:
    rt = app.state.runtime
    token = issue_token(
        who, secret=rt.settings.auth_secret, ttl_s=ttl_s, now=now or datetime.now(UTC)
    )
    return {"Authorization": f"Bearer {token}"}


async def alert_ids(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> set[str]:
    r = await client.get("/api/v1/alerts", headers=headers)
    assert r.status_code == 200, r.text
    return {a["alert_id"] for a in r.json()}


def sse_notifications(text: str) -> list[dict[str, Any]]:
    out, event = [], None
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "notification":
            out.append(json.loads(line[6:]))
    return out


async def test_every_api_call_needs_a_valid_token_and_health_stays_open(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(databases, broker, tmp_path, providers, smtp_server)
    calls = [
        ("GET", "/api/v1/stream"),
        ("GET", "/api/v1/notifications"),
        ("GET", "/api/v1/deliveries"),
        ("GET", "/api/v1/inbox/qinghe-leader"),
        ("POST", "/api/v1/inbox/qinghe-leader/x/read"),
        ("GET", "/api/v1/alerts"),
        ("POST", "/api/v1/alerts/x/ack"),
        ("GET", "/api/v1/me"),
    ]
    async with running(app, token=None) as client:
        # expired by the wall clock (token time is not the demo clock's business time)
        expired = bearer(app, QINGHE, ttl_s=60, now=datetime.now(UTC) - timedelta(hours=1))
        for method, path in calls:
            r = await client.request(method, path)
            assert r.status_code == 401, (path, r.text)
            assert r.json()["error"] == "not_authenticated" and "请先登录" in r.json()["message"]
            assert r.headers["WWW-Authenticate"] == "Bearer"
            forged = await client.request(
                method, path, headers={"Authorization": "Bearer not.a.token"}
            )
            assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"
            old = await client.request(method, path, headers=expired)
            assert old.status_code == 401 and old.json()["message"] == "登录已过期，请重新登录"
        assert (await client.get("/healthz")).status_code == 200
        # the dashboard without a session: to the login form, and back here afterwards
        r = await client.get("/?org=339922")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F%3Forg%3D339922"


async def test_a_county_sees_and_acknowledges_its_own_alerts_not_the_neighbouring_countys(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(databases, broker, tmp_path, providers, smtp_server, XF_SSE_HEARTBEAT_S=0.2)
    qinghe_alert, linjiang_alert = collective("339922"), collective("339902")
    q_case, l_case = qinghe_alert.case_id, linjiang_alert.case_id
    async with (
        running(app) as client,  # a service account of the whole tree
        TopicReader(broker, "alert.acknowledged") as acks,
    ):
        linjiang, qinghe, zrzy = (bearer(app, p) for p in (LINJIANG, QINGHE, ZRZY))
        await send(broker, qinghe_alert)
        await send(broker, linjiang_alert)
        await eventually(lambda: _has(client, {q_case, l_case}), timeout=30)

        # the notification log: each county its own, the city (service account) both
        async def log(headers: dict[str, str], **params: str) -> httpx.Response:
            return await client.get("/api/v1/notifications", params=params, headers=headers)

        mine = (await log(linjiang, case_id=l_case)).json()
        assert mine and all(n["unit_code"].startswith("339902") for n in mine)
        assert (await log(linjiang, case_id=q_case)).json() == []
        assert q_case not in {n["case_id"] for n in (await log(linjiang)).json()}
        assert (await log(qinghe, case_id=q_case)).json()
        assert (await log(qinghe, case_id=l_case)).json() == []
        # `org` narrows inside the caller's scope only; outside it, as an unknown unit: 404
        township = (await log(linjiang, case_id=l_case, org="339902001")).json()
        assert township and len(township) < len(mine)
        for outside in ("339922", "339900", "999999"):
            r = await log(linjiang, org=outside)
            assert r.status_code == 404 and r.json()["error"] == "org_not_found", outside
        stream = await client.get("/api/v1/stream", params={"org": "339922"}, headers=linjiang)
        assert stream.status_code == 404

        # the live stream shows the same (its replay; it ends when the token expires)
        short = bearer(app, LINJIANG, ttl_s=2)
        r = await client.get("/api/v1/stream", params={"since": 0}, headers=short)
        streamed = {n["case_id"] for n in sse_notifications(r.text)}
        assert l_case in streamed and q_case not in streamed

        # alerts and deliveries, and the inboxes of the neighbour's people
        assert l_case in await alert_ids(client, linjiang)
        assert q_case not in await alert_ids(client, linjiang)
        assert q_case not in await alert_ids(client, zrzy)  # a department sees its own only
        assert {q_case, l_case} <= await alert_ids(client)
        sent = await client.get("/api/v1/deliveries", params={"case_id": q_case}, headers=qinghe)
        assert sent.json() and all(d["case_id"] == q_case for d in sent.json())
        r = await client.get("/api/v1/deliveries", params={"case_id": q_case}, headers=linjiang)
        assert r.json() == []
        assert (
            await client.get("/api/v1/inbox/qinghe-leader", headers=linjiang)
        ).status_code == 404
        assert (
            await client.get("/api/v1/inbox/linjiang-leader", headers=linjiang)
        ).status_code == 200

        # acknowledging the neighbour's alert: as if it did not exist, and nothing changes
        for who in (linjiang, zrzy):
            r = await client.post(f"/api/v1/alerts/{q_case}/ack", json={}, headers=who)
            assert r.status_code == 404 and r.json()["message"] == "预警不存在"
        assert await _open(client, q_case)

        # acknowledging its own: recorded as the logged-in person, whatever name is typed in
        r = await client.post(
            f"/api/v1/alerts/{l_case}/ack",
            json={"by": "周市长", "note": "已到场"},
            headers=linjiang,
        )
        assert r.status_code == 200, r.text
        assert r.json()["acknowledged_by"] == "临江区督办员（linjiang.duban）"
        assert not await _open(client, l_case)
        [event] = await eventually(
            lambda: acks.events(type_="alert.acknowledged", subject=l_case), timeout=30
        )
        assert event["data"]["by"] == "临江区督办员（linjiang.duban）"
        assert event["data"]["unit_code"] == "339902"
        again = await client.post(f"/api/v1/alerts/{l_case}/ack", json={}, headers=linjiang)
        assert again.status_code == 409 and "临江区督办员" in again.json()["message"]


async def _has(
    client: httpx.AsyncClient, ids: set[str], headers: dict[str, str] | None = None
) -> bool:
    return ids <= await alert_ids(client, headers)


async def _open(client: httpx.AsyncClient, alert_id: str) -> bool:
    rows = (await client.get("/api/v1/alerts", params={"open": True})).json()
    return alert_id in {a["alert_id"] for a in rows}


# --- the dashboard's login, forwarded to the real intake app ------------------------------

DESK = {
    "username": "linjiang.leader",
    "display_name": "李晓",
    "password": "linjiang-leader-2026",
    "role": "leader",
    "org_code": "339902",  # 临江区
}


@asynccontextmanager
async def intake_on_a_port(databases: Databases) -> AsyncIterator[str]:
    """The real intake app served over HTTP (notify reaches it by URL), with one user."""
    settings = IntakeSettings(
        XF_INTAKE_DATABASE_URL=await databases.new("intake"),
        XF_AUTH_SECRET=SECRET,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",  # no broker: intake runs anyway
        kafka_session_timeout_s=2,
    )
    app = intake_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as c:
            await eventually(lambda: _up(c), timeout=30, what="intake up")
        rt = app.state.runtime
        async with rt.sessions() as session:
            await seed_users(session=session, users=[DESK], now=rt.clock.now())
            await session.commit()
        yield base
    finally:
        server.should_exit = True
        await task


async def _up(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_the_dashboard_logs_in_through_intake_and_works_by_its_cookie(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    async with intake_on_a_port(databases) as intake:
        app = await notify(
            databases,
            broker,
            tmp_path,
            providers,
            smtp_server,
            XF_AUTH_SECRET=SECRET,
            XF_NOTIFY_AUTH_URL=intake,
        )
        own, other = collective("339902"), collective("339922")
        async with running(app, token=None) as browser:
            service = {
                "Authorization": f"Bearer {service_token_for_tests(app.state.runtime.settings)}"
            }
            await send(broker, own)
            await send(broker, other)
            await eventually(
                lambda: _has(browser, {own.case_id, other.case_id}, service), timeout=30
            )

            form = await browser.get("/login", params={"next": "/?org=339902"})
            assert form.status_code == 200
            assert all(w in form.text for w in ("用户名", "密码", "登录"))

            # wrong password: the form says so, and no session
            r = await browser.post(
                "/login", data={"username": DESK["username"], "password": "wrong-password"}
            )
            assert r.status_code == 401 and "用户名或密码错误" in r.text
            # and where accounts log in: intake's answer names the deployment's unit
            assert "开设" in r.text and "江临市" in r.text
            assert "set-cookie" not in r.headers and not browser.cookies
            r = await browser.post("/login", data={"username": "", "password": ""})
            assert r.status_code == 422 and "请输入用户名和密码" in r.text

            # the right one: an HttpOnly, SameSite=Strict session cookie, back to the dashboard
            r = await browser.post(
                "/login",
                data={**{k: DESK[k] for k in ("username", "password")}, "next": "/?org=339902"},
            )
            assert r.status_code == 303 and r.headers["location"] == "/?org=339902"
            cookie = r.headers["set-cookie"].lower()
            assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
            assert "secure" not in cookie.replace("samesite", "")  # plain HTTP by default
            page = await browser.get("/?org=339902")
            assert page.status_code == 200
            assert "李晓（linjiang.leader）" in page.text and "临江区" in page.text
            assert "退出登录" in page.text

            # the page's calls authenticate by the cookie, scoped to the user's county
            me = (await browser.get("/api/v1/me")).json()
            assert me["username"] == "linjiang.leader" and me["org_name"] == "临江区"
            seen = await alert_ids(browser)
            assert own.case_id in seen and other.case_id not in seen
            r = await browser.post(f"/api/v1/alerts/{other.case_id}/ack", json={})
            assert r.status_code == 404
            r = await browser.post(f"/api/v1/alerts/{own.case_id}/ack", json={})
            assert r.status_code == 200 and r.json()["acknowledged_by"] == "李晓（linjiang.leader）"
            outside = await browser.get("/?org=339922")
            assert outside.status_code == 404 and "不在您的管辖范围内" in outside.text

            # logging out clears the cookie: back to needing a login
            r = await browser.post("/logout")
            assert r.status_code == 303 and r.headers["location"] == "/login"
            assert not browser.cookies
            assert (await browser.get("/api/v1/me")).status_code == 401
            assert (await browser.get("/")).status_code == 303

            # only local paths after a login (no open redirect)
            r = await browser.post(
                "/login",
                data={**{k: DESK[k] for k in ("username", "password")}, "next": "//evil.example/"},
            )
            assert r.status_code == 303 and r.headers["location"] == "/"

            # a session that has expired: back to the login form, which says why
            rt = app.state.runtime
            stale = issue_token(
                LINJIANG,
                secret=SECRET,
                ttl_s=3600,
                now=rt.clock.now() - timedelta(hours=2),
            )
            browser.cookies.set("xf_notify_session", stale)
            r = await browser.get("/")
            assert r.status_code == 303
            assert r.headers["location"] == "/login?expired=1&next=%2F"
            assert "登录已过期" in (await browser.get(r.headers["location"])).text
            browser.cookies.set("xf_notify_session", stale)
            r = await browser.get("/api/v1/alerts")
            assert r.status_code == 401 and r.json()["message"] == "登录已过期，请重新登录"


async def test_login_when_intake_cannot_be_reached_says_so_and_sets_no_cookie(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(
        databases,
        broker,
        tmp_path,
        providers,
        smtp_server,
        XF_NOTIFY_AUTH_URL=f"http://127.0.0.1:{free_port()}",  # nobody listens there
    )
    async with running(app, token=None) as browser:
        r = await browser.post("/login", data={"username": "a.b", "password": "whatever-123"})
        assert r.status_code == 502 and "登录服务暂不可用" in r.text
        assert not browser.cookies


@pytest.mark.parametrize("url", ["127.0.0.1:8001", "ftp://intake", "http://", "http://x/?a=b"])
def test_the_login_forwarding_address_must_be_an_http_url(url: str) -> None:
    with pytest.raises(ValidationError, match="XF_NOTIFY_AUTH_URL"):
        NotifySettings(XF_NOTIFY_AUTH_URL=url)
    assert NotifySettings(XF_NOTIFY_AUTH_URL="https://intake.example/").auth_url == (
        "https://intake.example"
    )
