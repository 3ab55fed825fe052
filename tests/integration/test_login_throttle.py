"""The login throttle (issue #13 item 6) on the real intake app and a real database (SQLite, or
PostgreSQL with XF_TEST_DATABASE=postgresql): attempts are counted atomically in the database
before the password is checked, per username, per client address and per (username, address);
a throttled account waits (a delay that doubles, capped) instead of being locked, the real
owner from another address is not kept out, and an administrator of the account's subtree can
lift the delay at once. The throttle runs on the wall clock (a dependency the test moves)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from xinfang_shared.auth.deps import get_wall_clock
from xinfang_shared.auth.security import service_token
from xinfang_shared.auth.service import seed_users
from xinfang_shared.auth.throttle import DEFAULT_POLICY, login_throttle
from xinfang_shared.auth.views import FORWARDED_ADDRESS_HEADER
from xinfang_shared.clock import FixedClock

from tests.conftest import Databases
from tests.integration.test_auth import CITY_LEADER, COUNTY_ADMIN, seeded_intake

NAME, GOOD = COUNTY_ADMIN["username"], COUNTY_ADMIN["password"]


@asynccontextmanager
async def throttled_intake(
    databases: Databases,
) -> AsyncIterator[tuple[FastAPI, FixedClock]]:
    async with seeded_intake(databases) as (app, _client):
        wall = FixedClock(datetime.now(UTC))

        async def fixed() -> FixedClock:
            return wall

        app.dependency_overrides[get_wall_clock] = fixed
        yield app, wall


def client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test", timeout=60)


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )


async def test_a_concurrent_burst_gets_at_most_the_free_attempts_checked(
    databases: Databases,
) -> None:
    async with throttled_intake(databases) as (app, _wall), client_from(app, "10.0.0.7") as c:
        passwords = [f"guess-{i:03d}" for i in range(60)]
        passwords[30] = GOOD  # the right password inside the burst does not get in either
        answers = await asyncio.gather(*(attempt(c, NAME, p) for p in passwords))
        statuses = [r.status_code for r in answers]
        checked = [s for s in statuses if s in (200, 401)]
        free = DEFAULT_POLICY.pair.free
        assert len(checked) <= free, statuses
        assert statuses.count(429) >= 60 - free
        assert 200 not in statuses[25:35] or statuses.count(401) < free
        refused = next(r for r in answers if r.status_code == 429)
        assert refused.json()["error"] == "too_many_failed_logins"
        assert int(refused.headers["Retry-After"]) >= 1
        assert "秒后再试" in refused.json()["message"]


async def test_an_attacker_does_not_lock_the_owner_out(
    databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    async with (
        throttled_intake(databases) as (app, wall),
        client_from(app, "203.0.113.9") as attacker,
        client_from(app, "10.1.2.3") as owner,
    ):
        with caplog.at_level(logging.WARNING, logger="xinfang_shared.auth.throttle"):
            statuses = [
                (await attempt(attacker, NAME, f"guess-{i}")).status_code for i in range(12)
            ]
        assert statuses.count(401) == DEFAULT_POLICY.pair.free and statuses.count(429) == 7
        assert any("login throttled" in r.getMessage() for r in caplog.records)  # an alert
        # the owner, from the office, gets in at once
        assert (await attempt(owner, NAME, GOOD)).status_code == 200
        # the attacker's address waits, longer after every failure, but is never locked
        r = await attempt(attacker, NAME, GOOD)
        assert r.status_code == 429
        first_wait = int(r.headers["Retry-After"])
        wall.advance(timedelta(seconds=first_wait))
        assert (await attempt(attacker, NAME, "guess-again")).status_code == 401
        r = await attempt(attacker, NAME, GOOD)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > first_wait
        # after the longest delay the right password works even from there
        wall.advance(DEFAULT_POLICY.pair.max_delay)
        assert (await attempt(attacker, NAME, GOOD)).status_code == 200


async def throttle_rows(app: FastAPI) -> int:
    async with app.state.runtime.sessions() as session:
        return int(
            (await session.execute(select(func.count()).select_from(login_throttle))).scalar_one()
        )


async def test_one_address_trying_many_usernames_is_throttled_across_them(
    databases: Databases,
) -> None:
    async with (
        throttled_intake(databases) as (app, wall),
        client_from(app, "198.51.100.4") as scanner,
        client_from(app, "10.1.2.3") as office,
    ):
        free = DEFAULT_POLICY.address.free
        statuses = [
            (await attempt(scanner, f"user{i:03d}", "password-1")).status_code
            for i in range(free + 10)
        ]
        assert statuses[:free] == [401] * free
        assert set(statuses[free:]) == {429}
        # every account is still open from elsewhere
        r = await attempt(office, CITY_LEADER["username"], CITY_LEADER["password"])
        assert r.status_code == 200
        # the scan's counters are forgotten once idle long enough (at the next good login)
        assert await throttle_rows(app) > free
        wall.advance(DEFAULT_POLICY.forget_after + timedelta(seconds=1))
        r = await attempt(office, CITY_LEADER["username"], CITY_LEADER["password"])
        assert r.status_code == 200
        assert await throttle_rows(app) <= 1  # the office address's own counter


async def test_an_admin_of_the_subtree_lifts_the_delay(databases: Databases) -> None:
    async with throttled_intake(databases) as (app, _wall):
        user_free = DEFAULT_POLICY.user.free
        # a distributed attack: many addresses, a few guesses each
        for i in range(user_free + 2):
            async with client_from(app, f"192.0.2.{i + 1}") as c:
                await attempt(c, NAME, f"guess-{i}")
        async with client_from(app, "10.1.2.3") as owner:
            r = await attempt(owner, NAME, GOOD)
            assert r.status_code == 429
            assert int(r.headers["Retry-After"]) <= DEFAULT_POLICY.user.max_delay.total_seconds()
            login = await attempt(owner, CITY_LEADER["username"], CITY_LEADER["password"])
            city = {"Authorization": f"Bearer {login.json()['access_token']}"}
            # the city leader is no admin; an admin of the account's subtree is needed
            r = await owner.post(f"/api/v1/users/{NAME}/unlock", headers=city)
            assert r.status_code == 403
        rt = app.state.runtime
        city_admin = {**COUNTY_ADMIN, "username": "admin.city", "org_code": "339900"}
        async with rt.sessions() as session:
            await seed_users(session=session, users=[city_admin], now=rt.clock.now())
            await session.commit()
        async with client_from(app, "10.1.2.4") as desk:
            login = await attempt(desk, "admin.city", COUNTY_ADMIN["password"])
            admin = {"Authorization": f"Bearer {login.json()['access_token']}"}
            r = await desk.post(f"/api/v1/users/{NAME}/unlock", headers=admin)
            assert r.status_code == 200, r.text
            assert (await attempt(desk, NAME, GOOD)).status_code == 200
            r = await desk.post("/api/v1/users/nobody/unlock", headers=admin)
            assert r.status_code == 404


async def test_the_failure_says_where_accounts_log_in_without_telling_who_exists(
    databases: Databases,
) -> None:
    async with throttled_intake(databases) as (app, _wall), client_from(app, "10.3.3.3") as c:
        wrong = (await attempt(c, NAME, "not-the-password")).json()
        nobody = (await attempt(c, "township.admin", "not-the-password")).json()
        assert wrong == nobody
        assert wrong["error"] == "invalid_credentials"
        assert "江临市" in wrong["message"] and "339900" in wrong["message"]
        assert "开设" in wrong["message"]
        assert "level" in wrong["message_en"] and "339900" in wrong["message_en"]


async def test_a_service_forwarding_logins_names_each_browsers_address(
    databases: Databases,
) -> None:
    """The notify dashboard forwards its users' logins from one address: with a service token
    it names each browser's address, which is what the throttle counts; without one the header
    is ignored (a guesser cannot pick a fresh address per try)."""
    async with throttled_intake(databases) as (app, _wall), client_from(app, "10.0.0.99") as c:
        rt = app.state.runtime
        token = service_token(
            "notify", secret=rt.settings.auth_secret, ttl_s=600, org_code="339900"
        )
        free = DEFAULT_POLICY.address.free

        async def forwarded(i: int, headers: dict[str, str]) -> int:
            r = await c.post(
                "/api/v1/auth/token",
                data={"username": f"user{i:03d}", "password": "password-1"},
                headers={FORWARDED_ADDRESS_HEADER: f"192.0.2.{i}", **headers},
            )
            return r.status_code

        service = {"Authorization": f"Bearer {token}"}
        assert {await forwarded(i, service) for i in range(free + 5)} == {401}
        spoofed = [await forwarded(i, {}) for i in range(free + 5)]
        assert spoofed[:free] == [401] * free and set(spoofed[free:]) == {429}
