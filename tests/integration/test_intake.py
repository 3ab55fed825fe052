"""Intake against the real broker and a real database."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app
from xinfang_intake.petitions.models import outbox, petitioners, petitions
from xinfang_shared.events import CaseRouted, new_event

from deploy import broker as broker_launcher
from tests.apps import running
from tests.conftest import Databases, eventually, free_port
from tests.kafka_helpers import TopicReader, produce

VALID_ID = "11010519491231002X"


def petition(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "channel": "visit",
        "petitioners": [{"name": "王建国", "id_number": VALID_ID, "phone": "13905710001"}],
        "receiving_office_code": "339922",
        "matter_location_code": "339922101201",
        "category": "土地征收补偿",
        "content": "承包地被征收后补偿款至今未发放，请求督促落实。",
    }
    doc.update(overrides)
    return doc


async def intake_settings(databases: Databases, servers: str, **extra: Any) -> IntakeSettings:
    return IntakeSettings(
        XF_INTAKE_DATABASE_URL=await databases.new("intake"),
        kafka_bootstrap_servers=servers,
        kafka_session_timeout_s=2,
        **extra,
    )


async def counts(app: Any) -> tuple[int, int, int]:
    rt = app.state.runtime
    async with rt.sessions() as s:
        return (
            (await s.execute(select(func.count()).select_from(petitions))).scalar_one(),
            (await s.execute(select(func.count()).select_from(petitioners))).scalar_one(),
            (await s.execute(select(func.count()).select_from(outbox))).scalar_one(),
        )


async def test_registered_petition_is_durable_published_and_visible_by_query_code(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    async with TopicReader(broker, "petition.received") as topic, running(app) as client:
        resp = await client.post("/api/v1/petitions", json=petition())
        assert resp.status_code == 201, resp.text
        created = resp.json()
        assert created["case_number"].startswith("339922-20")
        assert len(created["query_code"]) == 10
        assert created["status"] == "registered" and created["status_label"] == "已登记"

        [event] = await eventually(
            lambda: topic.events(type_="petition.received", subject=created["case_id"]),
            what="petition.received on the broker",
        )
        assert event["specversion"] == "1.0" and event["schemaversion"] == 1
        data = event["data"]
        assert data["case_number"] == created["case_number"]
        assert data["content"] == petition()["content"]
        # the raw ID number never leaves intake: masked and salted-hashed only
        assert VALID_ID not in json.dumps(event)
        assert data["petitioners"][0]["id_number_masked"] == "110105********002X"
        [msg] = [m for m in topic.messages if m.key == created["case_id"].encode()]
        assert json.loads(msg.value)["subject"] == created["case_id"]  # keyed by case id

        status = (await client.get(f"/api/v1/petitions/{created['query_code']}")).json()
        assert status["case_number"] == created["case_number"]
        assert status["status_label"] == "已登记" and status["channel_label"] == "来访"
        assert status["receiving_office"] == "清河县信访局"
        assert status["history"][0]["note"].startswith("清河县信访局登记")
        assert "petitioners" not in status and VALID_ID not in json.dumps(status)


async def test_case_numbers_are_sequential_per_office_and_unique(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker, XF_INTAKE_CASE_NUMBER_BLOCK=3)
    app = create_app(settings)
    async with running(app) as client:
        numbers = []
        for _ in range(7):
            r = await client.post("/api/v1/petitions", json=petition())
            numbers.append(r.json()["case_number"])
        other = (
            await client.post("/api/v1/petitions", json=petition(receiving_office_code="339902"))
        ).json()
    assert len(set(numbers)) == 7
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == list(range(1, 8))
    assert other["case_number"].startswith("339902-") and other["case_number"].endswith("-000001")


async def test_unknown_query_code_is_404_in_both_languages(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    async with running(app) as client:
        r = await client.get("/api/v1/petitions/ZZZZZZZZZZ")
    assert r.status_code == 404
    assert r.json()["message"] == "查询码不存在，请核对后重试" and r.json()["message_en"]


async def test_bad_input_is_refused_stores_nothing_and_publishes_nothing(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    bad = f"BAD-{uuid.uuid4()}"  # marks every refused petition, to look for it on the broker
    good = f"GOOD-{uuid.uuid4()}"
    no_content = petition(title=bad)
    del no_content["content"]
    cases: list[tuple[str, dict[str, Any] | bytes, int, str]] = [
        ("missing content", no_content, 422, "content"),
        ("wrong channel", petition(channel="carrier-pigeon", title=bad), 422, "channel"),
        (
            "invalid ID number",
            petition(petitioners=[{"name": "张三", "id_number": "110105194912310021"}], title=bad),
            422,
            "petitioners.0.id_number",
        ),
        ("2 MB body", petition(content="访" * 700_000, title=bad), 413, ""),
        ("not JSON", b"{channel: visit, title: " + bad.encode(), 422, "body"),
    ]
    async with TopicReader(broker, "petition.received") as topic, running(app) as client:
        for label, body, code, field in cases:
            if isinstance(body, bytes):
                r = await client.post(
                    "/api/v1/petitions", content=body, headers={"Content-Type": "application/json"}
                )
            else:
                r = await client.post("/api/v1/petitions", json=body)
            assert r.status_code == code, (label, r.text)
            doc = r.json()
            assert doc["message"] and doc["message_en"], label
            if field:
                assert any(e["field"].startswith(field) for e in doc["errors"]), (label, doc)
                assert all(e["message"] and e["message_en"] for e in doc["errors"])
        assert await counts(app) == (0, 0, 0)  # nothing stored, nothing staged for the broker
        # a good petition after the bad ones goes through; by the time it is on the broker,
        # anything staged before it would be too (the relay publishes in commit order)
        ok = await client.post("/api/v1/petitions", json=petition(title=good))
        assert ok.status_code == 201
        await eventually(
            lambda: [e for e in topic.events() if e["data"].get("title") == good],
            what="the good one",
        )
        assert not [m for m in topic.messages if bad.encode() in (m.value or b"")]
    assert await counts(app) == (1, 1, 1)


def _routed(reg: dict[str, Any]) -> bytes:
    now = datetime.now(UTC)
    data = CaseRouted(
        case_id=reg["case_id"],
        case_number=reg["case_number"],
        hop=1,
        action="直接办理",
        from_unit_code="339922",
        from_unit_name="清河县信访局",
        to_unit_code="339922-xfj",
        to_unit_name="清河县信访局",
        reason="test",
        routed_at=now,
        received_at=now,
    )
    return new_event(data=data, source="/test/routing", time=now).to_bytes()


async def test_intake_accepts_while_the_broker_is_down_and_catches_up(databases: Databases) -> None:
    port = free_port()
    servers = f"127.0.0.1:{port}"
    app = create_app(await intake_settings(databases, servers))
    proc = None
    try:
        async with running(app) as client:
            ready = await client.get("/readyz")
            # still ready: it takes petitions without the broker (they wait in the outbox)
            assert ready.status_code == 200 and ready.json()["broker"].startswith("unreachable")
            created = []
            for _ in range(3):
                r = await client.post("/api/v1/petitions", json=petition())
                assert r.status_code == 201  # durable in the database, broker or not
                created.append(r.json()["case_id"])
            assert await app.state.runtime.relay.pending() == 3

            proc = await asyncio.to_thread(broker_launcher.launch, port, 3)  # the broker comes up
            async with TopicReader(servers, "petition.received") as topic:
                await eventually(
                    lambda: {e["subject"] for e in topic.events()} >= set(created),
                    timeout=30,
                    what="the relay to publish the backlog",
                )
            assert await app.state.runtime.relay.pending() == 0
            assert (await client.get("/readyz")).status_code == 200
            # its consumer, started while the broker was away, now follows the routing events
            reg = (await client.post("/api/v1/petitions", json=petition())).json()
            await produce(servers, "case.routed", _routed(reg), key=reg["case_id"].encode())

            async def routed() -> bool:
                r = await client.get(f"/api/v1/petitions/{reg['query_code']}")
                return bool(r.json()["status"] == "routed")

            await eventually(routed, timeout=30, what="status routed")
    finally:
        if proc is not None:  # the broker goes last, after the service stopped
            proc.terminate()
            proc.wait(10)
