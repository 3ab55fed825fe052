"""Login, tokens and user administration on the real intake app and a real database (SQLite, or
PostgreSQL with XF_TEST_DATABASE=postgresql). The broker is not needed: intake runs without it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app
from xinfang_intake.petitions.models import users
from xinfang_shared.auth.deps import get_wall_clock
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import UnknownOrgCode
from xinfang_shared.auth.security import Principal, issue_token, service_token
from xinfang_shared.auth.service import (
    InvalidUserInput,
    authenticate_or_none,
    create_user,
    seed_users,
)
from xinfang_shared.clock import FixedClock

from tests.apps import running
from tests.conftest import Databases, free_port

SECRET = "integration-test-secret-0123456789-abcdef"
COUNTY_ADMIN = {
    "username": "admin.qinghe",
    "display_name": "李强",
    "password": "qinghe-admin-2026",
    "role": "admin",
    "org_code": "339922",  # 清河县
}
CITY_LEADER = {
    "username": "leader.jianglin",
    "display_name": "周明",
    "password": "jianglin-leader-2026",
    "role": "leader",
    "org_code": "339900",  # 江临市
}


async def auth_settings(databases: Databases, **extra: Any) -> IntakeSettings:
    return IntakeSettings(
        XF_INTAKE_DATABASE_URL=await databases.new("intake"),
        XF_AUTH_SECRET=SECRET,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",  # no broker: intake runs anyway
        kafka_session_timeout_s=2,
        **extra,
    )


@asynccontextmanager
async def seeded_intake(
    databases: Databases, **extra: Any
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(await auth_settings(databases, **extra))
    async with running(app, token=None) as client:
        rt = app.state.runtime
        async with rt.sessions() as session:
            await seed_users(session=session, users=[COUNTY_ADMIN, CITY_LEADER], now=rt.clock.now())
            await session.commit()
        yield app, client


async def login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def token_of(client: httpx.AsyncClient, account: dict[str, str]) -> dict[str, str]:
    r = await login(client, account["username"], account["password"])
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_admin_logs_in_and_creates_a_county_supervisor_who_can_log_in(
    databases: Databases,
) -> None:
    async with seeded_intake(databases) as (_app, client):
        r = await login(client, "admin.qinghe", "qinghe-admin-2026")
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        body = r.json()
        assert body["token_type"] == "bearer" and body["expires_in"] == 480 * 60
        assert body["user"] == {
            "username": "admin.qinghe",
            "name": "李强",
            "role": "admin",
            "role_label": "管理员",
            "org_code": "339922",
            "org_name": "清河县",
            "kind": "user",
        }
        admin = {"Authorization": f"Bearer {body['access_token']}"}

        me = await client.get("/api/v1/auth/me", headers=admin)
        assert me.status_code == 200 and me.json() == body["user"]

        new = {
            "username": "Wang.Fang",  # usernames are case-insensitive, stored in lower case
            "display_name": "王芳",
            "password": "dubanyuan-2026",
            "role": "supervisor",
            "org_code": "339922",
        }
        created = await client.post("/api/v1/users", json=new, headers=admin)
        assert created.status_code == 201, created.text
        user = created.json()
        assert user["username"] == "wang.fang" and user["role_label"] == "督办员"
        assert user["org_name"] == "清河县" and user["active"] is True
        assert "password" not in created.text and "argon2" not in created.text

        # the new supervisor logs in with the password the admin set
        r = await login(client, "wang.fang", "dubanyuan-2026")
        assert r.status_code == 200 and r.json()["user"]["role"] == "supervisor"

        # a handler in a county department, and in a township office: both in the county
        for username, org_code in [("zhao.lei", "339922-zrzy"), ("qian.li", "339922102")]:
            r = await client.post(
                "/api/v1/users",
                json={**new, "username": username, "role": "handler", "org_code": org_code},
                headers=admin,
            )
            assert r.status_code == 201, r.text
        assert r.json()["org_name"] == "柳塘乡"

        # the county admin lists the county's users, not the city's leader
        listed = await client.get("/api/v1/users", headers=admin)
        assert listed.status_code == 200
        assert sorted(u["username"] for u in listed.json()) == [
            "admin.qinghe",
            "qian.li",
            "wang.fang",
            "zhao.lei",
        ]

        again = await client.post("/api/v1/users", json=new, headers=admin)
        assert again.status_code == 409
        assert again.json()["error"] == "username_taken"
        assert again.json()["message"] == "用户名已存在：wang.fang"


async def test_creating_a_user_outside_the_admins_subtree_looks_like_an_unknown_org(
    databases: Databases,
) -> None:
    async with seeded_intake(databases) as (app, client):
        admin = await token_of(client, COUNTY_ADMIN)
        user = {
            "username": "sun.hao",
            "display_name": "孙浩",
            "password": "linjiang-2026",
            "role": "registrar",
        }
        # 临江区 (the neighbouring county), 江临市 (above) and its department: outside the scope
        outside = {}
        for code in ["339902", "339900", "339900-xfj", "339902001"]:
            r = await client.post("/api/v1/users", json={**user, "org_code": code}, headers=admin)
            assert r.status_code == 404, (code, r.text)
            outside[code] = r.json()
        missing = await client.post(
            "/api/v1/users", json={**user, "org_code": "339988"}, headers=admin
        )
        assert missing.status_code == 404
        # indistinguishable from a code that does not exist at all (only the code differs)
        as_missing = {k: v.replace("339988", "339902") for k, v in missing.json().items()}
        assert outside["339902"] == as_missing
        assert outside["339902"]["error"] == "org_not_found"
        assert "不存在" in outside["339902"]["message"]
        assert (await login(client, "sun.hao", "linjiang-2026")).status_code == 401
        async with app.state.runtime.sessions() as s:
            count = (await s.execute(select(func.count()).select_from(users))).scalar_one()
        assert count == 2  # only the seeded ones


async def test_bad_input_is_refused_field_by_field_in_both_languages(
    databases: Databases,
) -> None:
    async with seeded_intake(databases) as (_app, client):
        admin = await token_of(client, COUNTY_ADMIN)
        bad = {
            "username": "x",
            "display_name": "",
            "password": "short",
            "role": "registrar",
            "org_code": "339922",
        }
        r = await client.post("/api/v1/users", json=bad, headers=admin)
        assert r.status_code == 422
        errors = {e["field"]: e for e in r.json()["errors"]}
        assert set(errors) == {"username", "display_name", "password"}
        assert errors["password"]["message"] == "密码长度应为 8–128 个字符"
        assert errors["password"]["message_en"] == "password must be 8-128 characters"
        r = await client.post(
            "/api/v1/users", json={**bad, "username": "ok.name", "role": "dictator"}, headers=admin
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "role"
        machine = {**bad, "username": "robot", "display_name": "机器", "password": "x" * 12}
        r = await client.post("/api/v1/users", json={**machine, "role": "service"}, headers=admin)
        assert r.status_code == 422 and "服务账号" in r.json()["errors"][0]["message"]
        # text a person cannot see, or control characters, are refused by the schema
        for name, code in (("\u200b\u200b", "invisible_text"), ("王\u0000芳", "control_character")):
            r = await client.post(
                "/api/v1/users", json={**machine, "display_name": name}, headers=admin
            )
            assert r.status_code == 422 and r.json()["errors"][0]["code"] == code
            assert r.json()["errors"][0]["field"] == "display_name"


async def test_bad_password_and_unknown_user_get_the_same_401(databases: Databases) -> None:
    async with seeded_intake(databases) as (_app, client):
        wrong = await login(client, "admin.qinghe", "qinghe-admin-2025")
        nobody = await login(client, "nobody", "qinghe-admin-2026")
        for r in (wrong, nobody):
            assert r.status_code == 401
            assert r.headers["www-authenticate"] == "Bearer"
            assert r.json()["error"] == "invalid_credentials"
            assert r.json()["message"].startswith("用户名或密码错误")
            assert r.json()["message_en"].startswith("wrong username or password")
        assert wrong.json() == nobody.json()
        assert "access_token" not in wrong.text

        missing = await client.get("/api/v1/auth/me")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        assert missing.json()["error"] == "not_authenticated"
        garbage = await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer x.y.z"})
        assert garbage.status_code == 401 and garbage.json()["error"] == "invalid_token"
        assert garbage.headers["www-authenticate"].startswith("Bearer")


async def test_repeated_failed_logins_make_the_next_attempt_wait(databases: Databases) -> None:
    async with seeded_intake(databases) as (app, client):
        wall = FixedClock(datetime.now(UTC))

        async def fixed() -> FixedClock:
            return wall

        app.dependency_overrides[get_wall_clock] = fixed
        name, good = COUNTY_ADMIN["username"], COUNTY_ADMIN["password"]
        # a success forgets earlier failures: four wrong, one right, four wrong: no wait
        for _ in range(4):
            assert (await login(client, name, "wrong-password")).status_code == 401
        assert (await login(client, name, good)).status_code == 200
        for _ in range(4):
            assert (await login(client, name, "wrong-password")).status_code == 401
        # the fifth failure makes the next attempt from here wait, even with the right password
        assert (await login(client, name, "wrong-password")).status_code == 401
        r = await login(client, name, good)
        assert r.status_code == 429
        assert r.json()["error"] == "too_many_failed_logins"
        assert "秒后再试" in r.json()["message"]
        wait = int(r.headers["Retry-After"])
        assert 0 < wait <= 15 * 60
        # another account is not affected
        assert (
            await login(client, CITY_LEADER["username"], CITY_LEADER["password"])
        ).status_code == 200
        # once the wait is over, the right password works again
        wall.advance(timedelta(seconds=wait))
        assert (await login(client, name, good)).status_code == 200


async def test_the_demo_clock_logs_nobody_out_and_tokens_expire_on_the_wall_clock(
    databases: Databases,
) -> None:
    # manual clock (demo mode): `xf-clock advance 1d` moves business time, not token time
    async with seeded_intake(databases, clock_mode="manual") as (app, client):
        headers = await token_of(client, COUNTY_ADMIN)
        clock = app.state.runtime.clock
        await clock.set_offset(timedelta(days=1))
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
        # a login after the jump gets a token that works too
        fresh = await token_of(client, COUNTY_ADMIN)
        assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
        # a token issued 8 hours ago by the wall clock has expired, whatever the demo time
        admin = Principal(username="admin.qinghe", name="李强", role=Role.ADMIN, org_code="339922")
        wall_now = datetime.now(UTC)
        old = issue_token(admin, secret=SECRET, ttl_s=480 * 60, now=wall_now - timedelta(hours=8))
        r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {old}"})
        assert r.status_code == 401
        assert r.json()["message"] == "登录已过期，请重新登录"
        assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_tokens_from_elsewhere_are_refused(databases: Databases) -> None:
    async with seeded_intake(databases) as (app, client):
        now = app.state.runtime.clock.now()
        admin = Principal(username="admin.qinghe", name="李强", role=Role.ADMIN, org_code="339900")
        other = issue_token(admin, secret="some-other-deployment-0123456789", ttl_s=600, now=now)
        r = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {other}"})
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        old = issue_token(admin, secret=SECRET, ttl_s=480 * 60, now=now - timedelta(hours=9))
        r = await client.get("/api/v1/users", headers={"Authorization": f"Bearer {old}"})
        assert r.status_code == 401 and r.json()["message"] == "登录已过期，请重新登录"


async def test_wrong_role_is_403_and_a_service_token_is_accepted(databases: Databases) -> None:
    async with seeded_intake(databases) as (_app, client):
        leader = await token_of(client, CITY_LEADER)
        r = await client.get("/api/v1/users", headers=leader)
        assert r.status_code == 403
        assert r.json()["error"] == "forbidden" and "管理员" in r.json()["message"]
        new = {**COUNTY_ADMIN, "username": "sneaky", "role": "admin"}
        r = await client.post("/api/v1/users", json=new, headers=leader)
        assert r.status_code == 403
        assert (await login(client, "sneaky", COUNTY_ADMIN["password"])).status_code == 401

        token = service_token("routing", secret=SECRET, ttl_s=60, org_code="339900")
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
        assert me.json()["kind"] == "service" and me.json()["role_label"] == "服务账号"
        assert me.json()["org_name"] == "江临市"


async def test_seeding_is_idempotent_and_disabled_users_cannot_log_in(
    databases: Databases,
) -> None:
    async with seeded_intake(databases) as (app, client):
        rt = app.state.runtime
        async with rt.sessions() as session:
            again = await seed_users(
                session=session,
                users=[COUNTY_ADMIN, {**CITY_LEADER, "username": "ma.jun"}],
                now=rt.clock.now(),
            )
            await session.commit()
        assert [u.username for u in again] == ["ma.jun"]
        async with rt.sessions() as session:
            count = (await session.execute(select(func.count()).select_from(users))).scalar_one()
            assert count == 3
            with pytest.raises(UnknownOrgCode):
                await create_user(
                    session=session,
                    username="nowhere",
                    display_name="无名",
                    password="12345678",
                    role=Role.REGISTRAR,
                    org_code="339922-nope",
                    now=rt.clock.now(),
                )
            with pytest.raises(InvalidUserInput):
                await create_user(
                    session=session,
                    username="robot",
                    display_name="机器",
                    password="12345678",
                    role=Role.SERVICE,
                    org_code="339900",
                    now=rt.clock.now(),
                )
            await session.execute(
                users.update().where(users.c.username == "ma.jun").values(active=False)
            )
            await session.commit()
        async with rt.sessions() as session:
            assert await authenticate_or_none(
                session=session, username="admin.qinghe", password=COUNTY_ADMIN["password"]
            )
            assert not await authenticate_or_none(
                session=session, username="ma.jun", password=CITY_LEADER["password"]
            )
        assert (await login(client, "ma.jun", CITY_LEADER["password"])).status_code == 401


async def test_existing_endpoints_still_need_no_token(databases: Databases) -> None:
    async with seeded_intake(databases) as (_app, client):
        r = await client.get("/api/v1/petitions/ZZZZZZZZZZ")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        assert (await client.get("/healthz")).status_code == 200
