"""Faults during a burst, on real processes, the real broker and the test database (SQLite, or
PostgreSQL in CI's second run): an intake replica killed with SIGKILL, the broker stopped for
10 s and restarted empty, routing killed mid-stream. After each, every petition that got a 201
is routed exactly once in effect, and nothing that did not get a 201 exists.

The load generator behaves as a registrar's client should: each petition has its own
Idempotency-Key, and a request that fails (connection lost, 503) is retried, on another
replica if there is one, until it gets its 201.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from xinfang_shared.db import normalise_url

from deploy import broker as broker_launcher
from deploy.run import Stack, wait_healthy
from tests.conftest import Databases, eventually, free_port
from tests.e2e.stacks import auth_headers, launched

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "routing")


def petition(i: int) -> dict[str, Any]:
    return {
        "channel": "letter",
        "anonymous": True,  # never linked as a repeat: each is its own case
        "receiving_office_code": "339922",
        "matter_location_code": "339922101201",
        "content": f"第{i}号来信：村道年久失修，雨天无法通行，请求尽快维修。",
    }


@dataclass
class Burst:
    accepted: dict[str, str] = field(default_factory=dict)  # idempotency key -> case id
    retries: int = 0
    errors: list[str] = field(default_factory=list)


async def burst(
    urls: Callable[[], list[str]],
    n: int,
    *,
    start: int = 0,
    workers: int = 12,
    result: Burst | None = None,
    pause: float = 0.0,
) -> Burst:
    """Post ``n`` petitions, each until it gets its 201 (giving up after 60 s)."""
    out = result or Burst()
    todo: asyncio.Queue[int] = asyncio.Queue()
    for i in range(start, start + n):
        todo.put_nowait(i)
    turn = itertools.count()

    async def worker(client: httpx.AsyncClient) -> None:
        while not todo.empty():
            i = todo.get_nowait()
            key, body = f"fault-{i}-{uuid.uuid4().hex[:8]}", petition(i)
            deadline = time.monotonic() + 60
            while True:
                live = urls()
                url = live[next(turn) % len(live)]
                try:
                    r = await client.post(
                        url + "/api/v1/petitions",
                        json=body,
                        headers={"Idempotency-Key": key, "X-Client-Id": "fault-test"},
                    )
                    if r.status_code == 201:
                        out.accepted[key] = r.json()["case_id"]
                        break
                    reason = f"HTTP {r.status_code}"
                except httpx.HTTPError as exc:
                    reason = type(exc).__name__
                out.retries += 1
                if time.monotonic() > deadline:
                    out.errors.append(f"{key}: {reason}")
                    break
                await asyncio.sleep(0.2)
            if pause:
                await asyncio.sleep(pause)

    async with httpx.AsyncClient(timeout=10, headers=auth_headers()) as client:
        await asyncio.gather(*(worker(client) for _ in range(workers)))
    return out


async def rows(url: str, sql: str) -> list[Any]:
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(sa.text(sql))).all())
    finally:
        await engine.dispose()


async def assert_routed_exactly_once(stack: Stack, b: Burst, timeout: float = 90) -> None:
    assert not b.errors, b.errors[:5]
    accepted = set(b.accepted.values())
    intake_db = stack.env["XF_INTAKE_DATABASE_URL"]
    routing_db = stack.env["XF_ROUTING_DATABASE_URL"]
    stored = {r[0] for r in await rows(intake_db, "SELECT case_id FROM petitions")}
    assert stored == accepted  # nothing without a 201, nothing lost after one

    async def routed() -> set[str] | None:
        cases = {r[0] for r in await rows(routing_db, "SELECT case_id FROM routing_cases")}
        return cases if cases >= accepted else None

    try:
        cases = await eventually(routed, timeout=timeout)
    except AssertionError:
        have = {r[0] for r in await rows(routing_db, "SELECT case_id FROM routing_cases")}
        missing = sorted(accepted - have)
        sent = await rows(
            intake_db,
            "SELECT key, id, published_at, attempts FROM outbox WHERE topic = 'petition.received'",
        )
        detail = [r for r in sent if r[0] in set(missing[:10])]
        in_log = await _offsets_in_log(stack, "petition.received", set(missing))
        raise AssertionError(
            f"{len(missing)} of {len(accepted)} never routed; their outbox rows "
            f"(case, id, published_at, attempts): {detail}; where the broker has them "
            f"(partition, offset): {in_log}"
        ) from None
    assert cases == accepted  # no case that intake did not accept
    first_hops = await rows(
        routing_db, "SELECT case_id, count(*) FROM routing_hops WHERE hop = 1 GROUP BY case_id"
    )
    assert len(first_hops) == len(accepted) and all(n == 1 for _, n in first_hops)


async def _offsets_in_log(stack: Stack, topic: str, keys: set[str]) -> dict[str, Any]:
    """For a failure message: every (partition, offset) holding these keys, and each
    partition's offset range."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(
        bootstrap_servers=stack.env["XF_KAFKA_BOOTSTRAP_SERVERS"], enable_auto_commit=False
    )
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        found: dict[str, Any] = {"ranges": {}}
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=300)
            idle = 0 if batch else idle + 1
            for tp, msgs in batch.items():
                lo, _ = found["ranges"].get(tp.partition, (msgs[0].offset, msgs[-1].offset))
                found["ranges"][tp.partition] = (min(lo, msgs[0].offset), msgs[-1].offset)
                for m in msgs:
                    if m.key and m.key.decode() in keys:
                        found.setdefault(m.key.decode()[:8], []).append((tp.partition, m.offset))
        return found
    finally:
        await consumer.stop()


async def test_an_intake_replica_killed_during_a_burst_loses_nothing(
    tmp_path: Path, databases: Databases
) -> None:
    async with launched(tmp_path, databases, services=SERVICES) as stack:
        stack.start_service("intake", replica="-b", port=free_port())
        await asyncio.to_thread(wait_healthy, stack, ["intake-b"])
        replicas = ["intake", "intake-b"]

        def live() -> list[str]:
            return [stack.url(r) for r in replicas]

        b = Burst()
        load = asyncio.create_task(burst(live, 300, result=b, pause=0.01))
        await eventually(lambda: len(b.accepted) >= 100, timeout=60)
        stack.procs["intake-b"].kill()  # SIGKILL, mid-burst
        stack.procs.pop("intake-b").wait()
        replicas.remove("intake-b")
        await load
        assert len(b.accepted) == 300
        print({"killed_replica_retries": b.retries})
        await assert_routed_exactly_once(stack, b)


async def test_the_broker_stopped_for_10_s_and_restarted_empty_loses_nothing(
    tmp_path: Path, databases: Databases
) -> None:
    async with launched(tmp_path, databases, services=SERVICES) as stack:

        def live() -> list[str]:
            return [stack.url("intake")]

        # routing is down for maintenance: the first 100 are published but nobody consumes them
        stack.stop_service("routing")
        b = await burst(live, 100)
        await eventually(lambda: _published(stack, 100), timeout=30)
        port = int(stack.env["XF_KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
        stack.procs["broker"].kill()  # in-memory: every topic, message and offset is gone
        stack.procs.pop("broker").wait()
        t = time.monotonic()
        await burst(live, 100, start=100, result=b)  # intake keeps answering 201 (outbox)
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - t)))
        stack.procs["broker"] = await asyncio.to_thread(
            broker_launcher.launch, port, 3, stack.var / "log" / "broker-2.log"
        )  # the launcher creates every topic again
        await burst(live, 100, start=200, result=b)
        stack.start_service("routing")
        await asyncio.to_thread(wait_healthy, stack, ["routing"])
        assert len(b.accepted) == 300
        # only because intake's relay saw the broker come back empty and sent them again
        await assert_routed_exactly_once(stack, b, timeout=120)


async def test_the_broker_restarted_empty_under_a_running_consumer_loses_nothing(
    tmp_path: Path, databases: Databases
) -> None:
    """Routing stays up across the outage: it had read the first 100, and the restarted
    broker hands out those offsets again for other (replayed and new) events."""
    async with launched(tmp_path, databases, services=SERVICES) as stack:

        def live() -> list[str]:
            return [stack.url("intake")]

        b = await burst(live, 100)
        await assert_routed_exactly_once(stack, b)
        port = int(stack.env["XF_KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
        stack.procs["broker"].kill()
        stack.procs.pop("broker").wait()
        t = time.monotonic()
        await burst(live, 100, start=100, result=b)
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - t)))
        stack.procs["broker"] = await asyncio.to_thread(
            broker_launcher.launch, port, 3, stack.var / "log" / "broker-2.log"
        )
        await burst(live, 100, start=200, result=b)
        assert len(b.accepted) == 300
        await assert_routed_exactly_once(stack, b, timeout=120)


async def _published(stack: Stack, n: int) -> bool:
    sql = "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL"
    return bool((await rows(stack.env["XF_INTAKE_DATABASE_URL"], sql))[0][0] >= n)


async def test_routing_killed_mid_stream_routes_everything_once_after_restart(
    tmp_path: Path, databases: Databases
) -> None:
    async with launched(tmp_path, databases, services=SERVICES) as stack:

        def live() -> list[str]:
            return [stack.url("intake")]

        b = Burst()
        load = asyncio.create_task(burst(live, 300, result=b, pause=0.01))
        routing_db = stack.env["XF_ROUTING_DATABASE_URL"]

        async def some_routed() -> bool:
            try:
                n = (await rows(routing_db, "SELECT count(*) FROM routing_cases"))[0][0]
            except Exception:
                return False
            return bool(n >= 50)

        await eventually(some_routed, timeout=60)
        stack.procs["routing"].kill()  # SIGKILL while it works through the stream
        stack.procs.pop("routing").wait()
        await load
        stack.start_service("routing")
        await asyncio.to_thread(wait_healthy, stack, ["routing"])
        assert len(b.accepted) == 300
        await assert_routed_exactly_once(stack, b, timeout=120)
