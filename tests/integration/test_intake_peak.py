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


async def test_a_flood_is_written_in_shared_transactions_and_every_answer_matches_the_record(
    broker: str, databases: Databases
) -> None:
    """Group commit: 120 registrations at once, with twins and keyless ones mixed in, are
    written in a few transactions; every 201 has its petition, history entry and event."""
    app = create_app(
        await intake_settings(
            databases, broker, XF_INTAKE_MAX_INFLIGHT=500, XF_INTAKE_BURST_PER_CLIENT=500
        )
    )
    async with running(app) as client:
        keys = [f"flood-{i}-{uuid.uuid4().hex[:8]}" for i in range(80)]
        requests = [
            (k, petition(content=f"第{i}件：村道塌方，请求修复。")) for i, k in enumerate(keys)
        ]
        requests += [requests[i] for i in range(0, 80, 4)]  # 20 concurrent retries (twins)
        requests += [(None, petition(content=f"无键第{i}件：路灯损坏。")) for i in range(20)]
        replies = await asyncio.gather(
            *(
                client.post(POST, json=body, headers={"Idempotency-Key": k} if k else {})
                for k, body in requests
            )
        )
        assert [r.status_code for r in replies] == [201] * 120
        by_key: dict[str, set[str]] = {}
        for (k, _), r in zip(requests, replies, strict=True):
            if k:
                by_key.setdefault(k, set()).add(r.json()["case_id"])
        assert all(len(ids) == 1 for ids in by_key.values())  # a twin got its twin's answer
        answered = {r.json()["case_id"]: r.json()["case_number"] for r in replies}
        assert len(answered) == 100
        assert len(set(answered.values())) == 100  # case numbers unique

        rt = app.state.runtime
        async with rt.sessions() as s:
            stored = dict(
                (await s.execute(sa.text("SELECT case_id, case_number FROM petitions"))).all()
            )
            entries = (
                await s.execute(sa.text("SELECT count(*) FROM petition_history"))
            ).scalar_one()
            events = (
                await s.execute(
                    sa.text("SELECT count(*) FROM outbox WHERE topic = 'petition.received'")
                )
            ).scalar_one()
        assert stored == answered and entries == 100 and events == 100
        writer = app.state.intake.writer
        assert writer.written == 100 and writer.batches < 60  # shared transactions


async def test_two_replicas_racing_on_the_same_keys_register_each_petition_once(
    databases: Databases,
) -> None:
    """Two replicas' writers on one database get the same 40 requests at the same moment (a
    client retrying on the other replica): each key ends as one petition and both replicas
    answer with it."""
    from xinfang_intake.petitions.numbering import CaseNumberAllocator
    from xinfang_intake.petitions.schemas import PetitionCreate
    from xinfang_intake.petitions.sealing import InformantCipher, new_key, parse_key
    from xinfang_intake.petitions.service import request_hash
    from xinfang_intake.petitions.writer import RegistrationWriter
    from xinfang_shared import classifier, db, migrate
    from xinfang_shared.clock import SystemClock

    url = await databases.new("intake")
    await migrate.upgrade_to_head(url, service="intake")
    engine = db.create_engine(url)
    sessions = db.sessionmaker(engine)
    writers = [
        RegistrationWriter(
            sessions=sessions,
            numbers=CaseNumberAllocator(engine, block_size=10),
            clock=SystemClock(),
            source="/test",
            id_salt="test-salt-1234",
            collective_threshold=5,
            cipher=InformantCipher(parse_key(new_key())),
            model=classifier.load(),
            on_commit=lambda: None,
        )
        for _ in range(2)
    ]
    bodies = {
        f"race-{i}-{uuid.uuid4().hex[:6]}": PetitionCreate.model_validate(
            petition(content=f"第{i}件：水渠堵塞，请求疏通。")
        )
        for i in range(40)
    }
    outcomes = await asyncio.gather(
        *(
            w.register(body, idempotency_key=key, request_hash=request_hash(body))
            for key, body in bodies.items()
            for w in writers
        )
    )
    ids = [(o.created.case_id if o.created else (o.replayed or {})["case_id"]) for o in outcomes]
    for i in range(40):
        assert ids[2 * i] == ids[2 * i + 1]  # both replicas answered with the same petition
    assert sum(o.created is not None for o in outcomes) == 40
    async with engine.connect() as conn:
        n = (await conn.execute(sa.text("SELECT count(*) FROM petitions"))).scalar_one()
    assert n == 40
    await engine.dispose()
