"""Intake under pressure: Idempotency-Key, load shedding, per-client rate limits, and a slow
database, on the real database (SQLite or PostgreSQL) and the real broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from xinfang_intake.main import create_app
from xinfang_shared.db import normalise_url

from tests.apps import running
from tests.conftest import Databases
from tests.integration.test_intake import counts, intake_settings, petition

POST = "/api/v1/petitions"


async def test_a_retried_post_with_the_same_idempotency_key_registers_once(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    key = f"desk-7:{uuid.uuid4()}"
    async with running(app) as client:
        first = await client.post(POST, json=petition(), headers={"Idempotency-Key": key})
        assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
        again = await client.post(POST, json=petition(), headers={"Idempotency-Key": key})
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert (await counts(app))[0] == 1

        # concurrent retries of one request (a client that timed out and tried again, twice)
        key2 = f"desk-7:{uuid.uuid4()}"
        body = petition(content="夜间施工噪声扰民，请求依法查处。")
        replies = await asyncio.gather(
            *(client.post(POST, json=body, headers={"Idempotency-Key": key2}) for _ in range(8))
        )
        assert {r.status_code for r in replies} == {201}
        assert len({r.json()["case_id"] for r in replies}) == 1
        assert (await counts(app))[0] == 2

        # the same key for another request is refused and stores nothing
        other = await client.post(
            POST,
            json=petition(content="另一件事情：村道损坏无人维修，请求处理。"),
            headers={"Idempotency-Key": key},
        )
        assert other.status_code == 422 and other.json()["error"] == "idempotency_key_reused"
        bad = await client.post(POST, json=petition(), headers={"Idempotency-Key": "x"})
        assert bad.status_code == 422 and bad.json()["error"] == "invalid_idempotency_key"
        assert (await counts(app))[0] == 2
        # without a key, a retry is a new petition (as before)
        assert (await client.post(POST, json=petition())).status_code == 201
        assert (await counts(app))[0] == 3


async def test_each_client_is_rate_limited_on_its_own(broker: str, databases: Databases) -> None:
    app = create_app(
        await intake_settings(
            databases, broker, XF_INTAKE_RATE_PER_CLIENT=0.5, XF_INTAKE_BURST_PER_CLIENT=2
        )
    )
    async with running(app) as client:
        a = {"X-Client-Id": "desk-a"}
        assert (await client.post(POST, json=petition(), headers=a)).status_code == 201
        assert (await client.post(POST, json=petition(), headers=a)).status_code == 201
        third = await client.post(POST, json=petition(), headers=a)
        assert third.status_code == 429 and third.headers["Retry-After"] == "2"
        assert "请求过于频繁" in third.json()["message"]
        b = await client.post(POST, json=petition(), headers={"X-Client-Id": "desk-b"})
        assert b.status_code == 201
        assert (await counts(app))[0] == 3


class Lock:
    """Hold the petitions table (PostgreSQL) or the whole database (SQLite) from outside."""

    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(normalise_url(url))
        self.conn: Any = None

    async def __aenter__(self) -> Lock:
        self.conn = await self.engine.connect()
        if self.engine.dialect.name == "sqlite":
            await self.conn.exec_driver_sql("BEGIN EXCLUSIVE")
        else:
            await self.conn.begin()
            await self.conn.execute(sa.text("LOCK TABLE petitions IN EXCLUSIVE MODE"))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.rollback()
        await self.conn.close()
        await self.engine.dispose()


async def test_a_stuck_database_gets_503_with_retry_after_and_nothing_half_stored(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker, db_timeout_s=1)
    app = create_app(settings)
    async with running(app) as client:
        assert (await client.post(POST, json=petition())).status_code == 201  # tables exist
        async with Lock(settings.database_url):
            t = time.monotonic()
            r = await client.post(POST, json=petition(content="数据库被锁时提交"))
            waited = time.monotonic() - t
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "2" and "本次未登记" in r.json()["message"]
        assert waited < 5  # answered, not hung
        assert (await counts(app))[0] == 1
        assert (await client.post(POST, json=petition())).status_code == 201  # and recovers
        assert (await counts(app))[0] == 2


async def test_a_full_replica_sheds_load_with_503_instead_of_queueing(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker, XF_INTAKE_MAX_INFLIGHT=2)
    app = create_app(settings)
    async with running(app) as client:
        assert (await client.post(POST, json=petition())).status_code == 201
        async with Lock(settings.database_url):
            slow = [asyncio.create_task(client.post(POST, json=petition())) for _ in range(2)]
            await asyncio.sleep(0.5)  # both are waiting on the database now
            shed = await client.post(POST, json=petition())
            assert shed.status_code == 503 and shed.json()["error"] == "overloaded"
            assert shed.headers["Retry-After"] == "2"
            health = await client.get("/healthz")  # reads are never shed
            assert health.status_code == 200
        done = await asyncio.gather(*slow)
        assert [r.status_code for r in done] == [201, 201]
        assert (await counts(app))[0] == 3


async def test_petitions_keep_coming_in_while_the_broker_is_away(databases: Databases) -> None:
    """No broker at all: intake still answers 201 (the outbox holds the events)."""
    app = create_app(await intake_settings(databases, "127.0.0.1:1"))
    async with running(app) as client:
        replies = [await client.post(POST, json=petition()) for _ in range(5)]
        assert [r.status_code for r in replies] == [201] * 5
        assert (await counts(app))[2] >= 5  # every event waits in the outbox
        ready = await client.get("/readyz")  # still in service: the outbox holds the events
        assert ready.status_code == 200 and ready.json()["broker"].startswith("unreachable")
        assert ready.json()["outbox_pending"] >= 5
