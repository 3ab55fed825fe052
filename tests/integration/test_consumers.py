"""Routing, supervision and notify on the real broker and a real database, in-process."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app as notify_app
from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app as routing_app
from xinfang_shared.clock import ManualClock
from xinfang_shared.events import CaseRouted, DeadlineReminder, PetitionReceived, new_event
from xinfang_shared.workdays import next_workday_on_or_after
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app as supervision_app

from tests.apps import running, service_token_for_tests
from tests.conftest import Databases, eventually, free_port
from tests.kafka_helpers import TopicReader, produce


def common(broker: str) -> dict[str, Any]:
    return {"kafka_bootstrap_servers": broker, "kafka_session_timeout_s": 2, "clock_mode": "manual"}


def received(case_id: str, office: str = "339922") -> bytes:
    now = datetime.now(UTC)
    data = PetitionReceived(
        case_id=case_id,
        case_number=f"{office}-2026-{uuid.uuid4().int % 10**6:06d}",
        channel="letter",
        received_at=now,
        receiving_office_code=office,
        receiving_office_name="清河县信访局",
        anonymous=True,
        persons=1,
        content="反映村道损坏无人维修",
    )
    return new_event(data=data, source="/test/intake", time=now).to_bytes()


async def test_routing_routes_once_dead_letters_poison_and_keeps_going(
    broker: str, databases: Databases
) -> None:
    settings = RoutingSettings(
        XF_ROUTING_DATABASE_URL=await databases.new("routing"), **common(broker)
    )
    app = routing_app(settings)
    case_a, case_b = str(uuid.uuid4()), str(uuid.uuid4())
    event_a = received(case_a)
    async with TopicReader(broker, "case.routed", "dlq.routing") as topic, running(app) as client:
        await produce(broker, "petition.received", event_a, key=case_a.encode())
        await produce(broker, "petition.received", event_a, key=case_a.encode())  # redelivery
        # poison on the same key (same partition) as a good event that follows it
        await produce(broker, "petition.received", b"\x00garbage", key=case_b.encode())
        await produce(broker, "petition.received", received(case_b), key=case_b.encode())

        await eventually(lambda: topic.events(subject=case_b), timeout=30, what="case B routed")
        [routed] = topic.events(type_="case.routed", subject=case_a)
        assert routed["data"]["to_unit_name"] == "清河县信访局"
        assert routed["data"]["hop"] == 1
        [dead] = await eventually(lambda: topic.values("dlq.routing"), what="dead letter")
        assert dead["key"] == case_b and dead["error_type"] == "BadEvent"
        assert dead["topic"] == "petition.received"
        hops = (await client.get(f"/api/v1/cases/{case_a}/hops")).json()
        assert len(hops) == 1  # the redelivered event did not route the case twice
        ready = (await client.get("/readyz")).json()
        assert ready["events_dead_lettered"] == 1


def routed_event(case_id: str, routed_at: datetime) -> bytes:
    data = CaseRouted(
        case_id=case_id,
        case_number="339922-2026-000077",
        hop=1,
        action="直接办理",
        from_unit_code="339922",
        from_unit_name="清河县信访局",
        to_unit_code="339922-xfj",
        to_unit_name="清河县信访局",
        reason="test",
        routed_at=routed_at,
        received_at=routed_at,
    )
    return new_event(data=data, source="/test/routing", time=routed_at).to_bytes()


async def test_supervision_stores_deadlines_reminds_on_clock_and_survives_restart(
    broker: str, databases: Databases
) -> None:
    url = await databases.new("supervision")
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=url, XF_SWEEP_INTERVAL_S=0.2, **common(broker)
    )
    case_id = str(uuid.uuid4())
    routed_at = datetime.now(UTC)
    async with TopicReader(broker, "deadline.reminder", "deadline.overdue") as topic:
        app = supervision_app(settings)
        async with running(app) as client:
            await produce(
                broker, "case.routed", routed_event(case_id, routed_at), key=case_id.encode()
            )
            deadlines = await eventually(
                lambda: _json(client, f"/api/v1/cases/{case_id}/deadlines"),
                timeout=30,
                what="deadlines",
            )
            by_kind = {d["kind"]: d for d in deadlines}
            start = routed_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).date()
            due = next_workday_on_or_after(start + timedelta(days=15))
            assert by_kind["acceptance_notice"]["due_date"] == str(due)
            assert "handling" not in by_kind  # the 60 days run from acceptance
            assert not topic.events(subject=case_id)

            clock = app.state.runtime.clock
            assert isinstance(clock, ManualClock)
            await clock.set_offset(timedelta(days=12))
            [reminder] = await eventually(
                lambda: topic.events(subject=case_id), what="the 3-day reminder"
            )
            left = (due - (start + timedelta(days=12))).days
            assert reminder["data"]["days_left"] == left and reminder["data"]["days_before"] >= left
            assert reminder["data"]["deadline_kind"] == "acceptance_notice"

        # a restarted supervision keeps its deadlines and does not repeat the reminder
        app2 = supervision_app(settings)
        async with running(app2) as client:
            assert len(await _json(client, f"/api/v1/cases/{case_id}/deadlines")) == 1
            await app2.state.runtime.clock.set_offset(timedelta(days=12))
            await client.post("/api/v1/sweep")
            await app2.state.runtime.clock.set_offset(timedelta(days=(due - start).days + 1))
            overdue = await eventually(
                lambda: topic.events(type_="deadline.overdue", subject=case_id), what="overdue"
            )
            assert overdue[0]["data"]["days_overdue"] == 1
            assert len(topic.events(type_="deadline.reminder", subject=case_id)) == 1


async def _json(client: httpx.AsyncClient, path: str) -> Any:
    r = await client.get(path)
    return r.json() if r.status_code == 200 else None


def reminder_event(case_id: str) -> bytes:
    now = datetime.now(UTC)
    data = DeadlineReminder(
        case_id=case_id,
        case_number="339922-2026-000099",
        deadline_id=str(uuid.uuid4()),
        deadline_kind="acceptance_notice",
        deadline_label="受理告知",
        unit_code="339922-xfj",
        unit_name="清河县信访局",
        due_date=date.today() + timedelta(days=3),
        days_left=3,
        days_before=3,
    )
    return new_event(data=data, source="/test/supervision", time=now).to_bytes()


async def test_notify_records_once_and_streams_live_over_sse(
    broker: str, databases: Databases
) -> None:
    port = free_port()
    settings = NotifySettings(
        XF_NOTIFY_DATABASE_URL=await databases.new("notify"), **common(broker)
    )
    app = notify_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"
    case_id = str(uuid.uuid4())
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            await eventually(lambda: _up(client), timeout=30, what="notify up")
            assert (await client.get("/api/v1/stream")).status_code == 401  # a caller is named
            client.headers["Authorization"] = f"Bearer {service_token_for_tests(settings)}"
            async with TopicReader(broker, "notification.sent") as sent:
                async with client.stream("GET", "/api/v1/stream") as stream:
                    assert stream.headers["content-type"].startswith("text/event-stream")
                    raw = reminder_event(case_id)
                    await produce(broker, "deadline.reminder", raw, key=case_id.encode())
                    await produce(
                        broker, "deadline.reminder", raw, key=case_id.encode()
                    )  # redelivered
                    frame = await asyncio.wait_for(_next_notification(stream, case_id), 30)
                assert frame["case_id"] == case_id
                assert frame["title"].startswith("催办：339922-2026-000099")
                assert frame["recipient"] == "339922-xfj"
                await eventually(lambda: sent.events(subject=case_id), what="notification.sent")
                log = (
                    await client.get("/api/v1/notifications", params={"case_id": case_id})
                ).json()
                assert len(log) == 1  # once, although the event came twice
                # a client that reconnects with Last-Event-ID gets what it missed
                async with client.stream(
                    "GET", "/api/v1/stream", headers={"Last-Event-ID": str(log[0]["seq"] - 1)}
                ) as again:
                    replay = await asyncio.wait_for(_next_notification(again, case_id), 10)
                assert replay["notification_id"] == log[0]["notification_id"]
                page = await client.get("/", follow_redirects=True)  # no session: log in first
                assert "信访实时预警" in page.text and "用户名" in page.text
    finally:
        server.should_exit = True
        await task


async def _up(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _next_notification(stream: httpx.Response, case_id: str) -> dict[str, Any]:
    """The next notification frame about ``case_id`` (the broker is shared by the tests)."""
    event = None
    async for line in stream.aiter_lines():
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "notification":
            doc: dict[str, Any] = json.loads(line[6:])
            if doc["case_id"] == case_id:
                return doc
    raise AssertionError("stream ended")


async def test_notify_tells_the_handling_unit_of_a_supervision_order_and_an_escalation(
    broker: str, databases: Databases
) -> None:
    from xinfang_shared.events import CaseEscalated, SupervisionOrderIssued

    app = notify_app(
        NotifySettings(XF_NOTIFY_DATABASE_URL=await databases.new("notify"), **common(broker))
    )
    cid = str(uuid.uuid4())
    now = datetime.now(UTC)
    order = SupervisionOrderIssued(
        case_id=cid,
        case_number="339922102-2026-000009",
        order_id="o-1",
        issued_by="339922-xfj",
        issued_by_name="清河县信访局",
        issued_to="339922102-zf",
        issued_to_name="柳塘乡人民政府",
        deadline_label="受理告知",
        due_date=date(2026, 3, 16),
        feedback_due=date(2026, 4, 16),
        issued_at=now,
        leader="李副县长",
    )
    escalated = CaseEscalated(
        case_id=cid,
        case_number="339922102-2026-000009",
        from_unit_code="339922-xfj",
        to_unit_code="339900-xfj",
        to_unit_name="江临市信访局",
        handling_unit_code="339922102-zf",
        handling_unit_name="柳塘乡人民政府",
        reason="超期仍未办结",
        escalated_at=now,
    )
    async with running(app) as client:
        for data in (order, escalated):
            await produce(
                broker,
                data.TOPIC,
                new_event(data=data, source="/test", time=now).to_bytes(),
                key=cid.encode(),
            )

        async def log() -> list[dict[str, Any]] | None:
            rows = (await client.get("/api/v1/notifications", params={"case_id": cid})).json()
            return rows if len(rows) == 5 else None

        rows = await eventually(log, timeout=30, what="督办 and escalation notifications")
        by = {(r["source_event_type"], r["recipient"]) for r in rows}
        assert by == {
            ("case.supervision_order", "339922102-zf"),
            ("case.supervision_order", "339922-xfj"),
            ("case.supervision_order", "leader:李副县长"),
            ("case.escalated", "339900-xfj"),
            ("case.escalated", "339922102-zf"),
        }
