"""Account administration and token revocation (issue #7): an administrator disables an
account, resets its password or changes its role; every token issued to it so far stops working
at once in intake and, through the ``auth.tokens_revoked`` event, at every other service."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from xinfang_intake.main import create_app as intake_app
from xinfang_shared.auth.service import seed_users
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app as supervision_app

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_auth import (
    CITY_LEADER,
    COUNTY_ADMIN,
    auth_settings,
    login,
    seeded_intake,
    token_of,
)
from tests.integration.test_intake import intake_settings

DESK = {
    "username": "desk.liutang",
    "display_name": "赵敏",
    "password": "liutang-desk-2026",
    "role": "registrar",
    "org_code": "339922102",  # 柳塘乡, in 清河县
}
NEIGHBOUR_ADMIN = {
    "username": "admin.linjiang",
    "display_name": "钱江",
    "password": "linjiang-admin-2026",
    "role": "admin",
    "org_code": "339902",  # 临江区: the neighbouring county
}


async def _seed(app: Any, *accounts: dict[str, str]) -> None:
    rt = app.state.runtime
    async with rt.sessions() as session:
        await seed_users(session=session, users=list(accounts), now=rt.clock.now())
        await session.commit()


async def test_a_disabled_account_is_refused_at_once_and_can_come_back(
    databases: Databases,
) -> None:
    async with seeded_intake(databases, clock_mode="manual") as (app, client):
        await _seed(app, DESK, NEIGHBOUR_ADMIN)
        admin = await token_of(client, COUNTY_ADMIN)
        desk = await token_of(client, DESK)
        assert (await client.get("/api/v1/auth/me", headers=desk)).status_code == 200

        # only an administrator whose subtree holds the account may change it
        r = await client.patch("/api/v1/users/desk.liutang", json={"active": False}, headers=desk)
        assert r.status_code == 403
        neighbour = await token_of(client, NEIGHBOUR_ADMIN)
        r = await client.patch(
            "/api/v1/users/desk.liutang", json={"active": False}, headers=neighbour
        )
        assert r.status_code == 404 and r.json()["error"] == "user_not_found"
        r = await client.patch("/api/v1/users/nobody", json={"active": False}, headers=admin)
        assert r.status_code == 404
        # bad input changes nothing: the token still works
        r = await client.patch(
            "/api/v1/users/desk.liutang", json={"password": "short"}, headers=admin
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "password"
        assert (await client.get("/api/v1/auth/me", headers=desk)).status_code == 200

        # 离职: disabled; the token in hand stops working at once, and so does the login
        r = await client.patch("/api/v1/users/desk.liutang", json={"active": False}, headers=admin)
        assert r.status_code == 200 and r.json()["active"] is False
        r = await client.get("/api/v1/auth/me", headers=desk)
        assert r.status_code == 401 and r.json()["error"] == "invalid_token"
        assert "已停用" in r.json()["message"]
        assert (await login(client, DESK["username"], DESK["password"])).status_code == 401

        # enabled again (a second later): a new login gets a token that works
        await app.state.runtime.clock.set_offset(timedelta(seconds=2))
        r = await client.patch("/api/v1/users/desk.liutang", json={"active": True}, headers=admin)
        assert r.status_code == 200 and r.json()["active"] is True
        fresh = await token_of(client, DESK)
        assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
        assert (await client.get("/api/v1/auth/me", headers=desk)).status_code == 401  # old one

        # a name change revokes nothing
        r = await client.patch(
            "/api/v1/users/desk.liutang", json={"display_name": "赵敏敏"}, headers=admin
        )
        assert r.status_code == 200 and r.json()["name"] == "赵敏敏"
        assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200


async def test_logging_in_again_right_after_a_revocation_works_and_old_tokens_stay_revoked(
    databases: Databases,
) -> None:
    async with seeded_intake(databases) as (app, client):
        await _seed(app, DESK)
        admin = await token_of(client, COUNTY_ADMIN)
        for _ in range(3):  # at once, within the same second as the revocation
            old = await token_of(client, DESK)
            r = await client.patch(
                "/api/v1/users/desk.liutang", json={"password": DESK["password"]}, headers=admin
            )
            assert r.status_code == 200
            fresh = await token_of(client, DESK)
            assert (await client.get("/api/v1/auth/me", headers=fresh)).status_code == 200
            assert (await client.get("/api/v1/auth/me", headers=old)).status_code == 401


async def test_a_password_reset_revokes_the_old_token_at_other_services_too(
    broker: str, databases: Databases
) -> None:
    settings = await auth_settings(databases)
    intake_cfg = await intake_settings(databases, broker, XF_AUTH_SECRET=settings.auth_secret)
    sup_cfg = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=await databases.new("supervision"),
        XF_AUTH_SECRET=settings.auth_secret,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
    )
    intake, supervision = intake_app(intake_cfg), supervision_app(sup_cfg)
    async with running(intake, token=None) as ic, running(supervision, token=None) as sc:
        await _seed(intake, COUNTY_ADMIN, CITY_LEADER)
        admin = await token_of(ic, COUNTY_ADMIN)
        leader_admin_of_city = await token_of(ic, CITY_LEADER)
        assert (await sc.get("/api/v1/cases", headers=admin)).status_code == 200

        async def refused_at_supervision(headers: dict[str, str]) -> bool:
            r = await sc.get("/api/v1/cases", headers=headers)
            return r.status_code == 401 and "已停用" in r.json()["message"]

        # the city leader is not an administrator: cannot reset anyone's password
        r = await ic.patch(
            "/api/v1/users/admin.qinghe",
            json={"password": "a-new-password-2026"},
            headers=leader_admin_of_city,
        )
        assert r.status_code == 403
        # the county administrator resets their own password (e.g. it leaked)
        r = await ic.patch(
            "/api/v1/users/admin.qinghe", json={"password": "a-new-password-2026"}, headers=admin
        )
        assert r.status_code == 200, r.text
        await eventually(
            lambda: refused_at_supervision(admin), timeout=30, what="supervision refuses it"
        )
        await asyncio.sleep(1.1)  # a token of the same second as the revocation counts as older
        # the old password no longer logs in; the new one does, and its token works everywhere
        r = await login(ic, COUNTY_ADMIN["username"], COUNTY_ADMIN["password"])
        assert r.status_code == 401
        r = await login(ic, COUNTY_ADMIN["username"], "a-new-password-2026")
        assert r.status_code == 200
        fresh = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert (await sc.get("/api/v1/cases", headers=fresh)).status_code == 200
        assert (await ic.get("/api/v1/auth/me", headers=fresh)).status_code == 200

    # the revocation is kept in supervision's database: a restarted service still refuses
    async with running(supervision_app(sup_cfg), token=None) as sc2:
        assert await refused_at_supervision_again(sc2, admin)


async def refused_at_supervision_again(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    r = await client.get("/api/v1/cases", headers=headers)
    return r.status_code == 401
