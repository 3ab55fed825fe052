"""Notify as a delivery system, in-process on the real broker, against a real SMTP server
(aiosmtpd) and a local HTTP server playing the 企业微信 robot and the SMS gateway."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app as notify_app
from xinfang_shared.events import (
    CaseStatusChanged,
    CollectiveAlert,
    EventData,
    PetitionerInfo,
    PetitionReceived,
    new_event,
)
from xinfang_shared.timeutil import SHANGHAI

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.kafka_helpers import TopicReader, produce
from tests.peers import CollectingHandler, FakeProviders, parse_mail

LEADER_MAIL, LEADER_PHONE = "wang@qinghe.example", "13900000002"
CITY_MAIL = "zhou@jianglin.example"


def directory(tmp_path: Path, providers: FakeProviders) -> Path:
    doc = {
        "people": [
            {
                "id": "qinghe-leader",
                "name": "王县长",
                "unit": "339922",
                "roles": ["leader"],
                "channels": ["inbox", "email", "sms"],
                "email": LEADER_MAIL,
                "phone": LEADER_PHONE,
            },
            {
                "id": "city-leader",
                "name": "周市长",
                "unit": "339900",
                "roles": ["leader"],
                "channels": ["inbox", "email"],
                "email": CITY_MAIL,
            },
            {
                "id": "linjiang-leader",
                "name": "李区长",
                "unit": "339902",
                "roles": ["leader"],
                "channels": ["inbox"],
            },
        ],
        "robots": [
            {
                "unit": "339922",
                "kind": "wecom",
                "levels": ["urgent"],
                "url": f"{providers.base}/cgi-bin/webhook/send?key=qinghe",
            },
        ],
    }
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


async def notify(
    databases: Databases,
    broker: str,
    tmp_path: Path,
    providers: FakeProviders,
    smtp: tuple[CollectingHandler, int],
    **extra: Any,
) -> FastAPI:
    settings = NotifySettings(
        XF_NOTIFY_DATABASE_URL=await databases.new("notify"),
        XF_NOTIFY_DIRECTORY_FILE=directory(tmp_path, providers),
        XF_SMTP_HOST="127.0.0.1",
        XF_SMTP_PORT=smtp[1],
        XF_SMS_GATEWAY_URL=f"{providers.base}/sms/send",
        XF_DELIVERY_BACKOFF_S=0.1,
        XF_ALERT_CHECK_S=0.5,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
        **{"XF_QUIET_HOURS": "", **extra},
    )
    return notify_app(settings)


def collective(case_id: str, persons: int = 7) -> CollectiveAlert:
    return CollectiveAlert(
        case_id=case_id,
        case_number=f"339922-2026-{uuid.uuid4().int % 10**6:06d}",
        persons=persons,
        threshold=5,
        receiving_office_code="339922",
        receiving_office_name="清河县信访局",
        matter_location_code="339922101201",
        summary="西岗村村民反映征地补偿款未足额发放",
        raised_at=datetime.now(UTC),
    )


async def send(broker: str, data: EventData, envelope_id: str | None = None) -> bytes:
    raw = new_event(
        data=data, source="/test", time=datetime.now(UTC), event_id=envelope_id
    ).to_bytes()
    await produce(broker, data.TOPIC, raw, key=data.case_id.encode())  # type: ignore[attr-defined]
    return raw


def mails_to(smtp: tuple[CollectingHandler, int], address: str, needle: str) -> list[Any]:
    out = []
    for env in smtp[0].envelopes:
        if address in env.rcpt_tos:
            msg = parse_mail(env)
            if needle in msg.get_content() or needle in str(msg["Subject"]):
                out.append(msg)
    return out


def robot_posts(providers: FakeProviders, needle: str) -> list[Any]:
    return [
        r
        for r in providers.requests
        if r.path.endswith("/webhook/send") and needle in r.body["markdown"]["content"]
    ]


def sms_to(providers: FakeProviders, phone: str, needle: str = "") -> list[Any]:
    return [
        r
        for r in providers.requests
        if r.path == "/sms/send" and r.body["phone"] == phone and needle in r.body["text"]
    ]


async def deliveries(client: Any, case_id: str, **params: str) -> list[dict[str, Any]]:
    r = await client.get("/api/v1/deliveries", params={"case_id": case_id, **params})
    rows: list[dict[str, Any]] = r.json()
    return rows


async def test_a_collective_visit_reaches_leaders_by_mail_sms_robot_inbox_and_dashboard(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(databases, broker, tmp_path, providers, smtp_server)
    case_id = str(uuid.uuid4())
    alert = collective(case_id)
    async with running(app) as client:
        await send(broker, alert)
        [mail] = await eventually(
            lambda: mails_to(smtp_server, LEADER_MAIL, alert.case_number), timeout=30
        )
        assert "集体访预警：7人" in str(mail["Subject"]) and "清河镇" in mail.get_content()
        [post] = await eventually(lambda: robot_posts(providers, alert.case_number), timeout=30)
        assert (
            post.body["msgtype"] == "markdown" and "集体访预警" in post.body["markdown"]["content"]
        )
        [sms] = await eventually(
            lambda: sms_to(providers, LEADER_PHONE, alert.case_number), timeout=30
        )
        assert sms.body["template_id"] == "collective" and sms.body["params"]["persons"] == "7"
        # the city (level above) hears at once too
        await eventually(lambda: mails_to(smtp_server, CITY_MAIL, alert.case_number), timeout=30)

        # the dashboard log, as each org may see it
        def seen_by(org: str) -> Any:
            return client.get("/api/v1/notifications", params={"case_id": case_id, "org": org})

        county = (await seen_by("339922")).json()
        assert {n["recipient"] for n in county} >= {
            "339922:leaders",
            "339922-xfj",
            "339922101:leaders",
        }
        assert all(n["level"] == "urgent" and n["alert_id"] == case_id for n in county)
        assert "339900:leaders" not in {n["recipient"] for n in county}  # the city's own copy
        assert (await seen_by("339902")).json() == []  # the neighbouring district sees nothing
        assert len((await seen_by("339900")).json()) == len(county) + 1

        # the leader's in-app inbox, and reading it
        inbox = (await client.get("/api/v1/inbox/qinghe-leader")).json()
        [item] = [i for i in inbox if i["case_id"] == case_id]
        r = await client.post(f"/api/v1/inbox/qinghe-leader/{item['delivery_id']}/read")
        assert r.status_code == 200
        unread = (await client.get("/api/v1/inbox/qinghe-leader", params={"unread": True})).json()
        assert case_id not in {i["case_id"] for i in unread}
        assert (await client.get("/api/v1/inbox/nobody")).status_code == 404

        # the delivery log, by case: every channel sent exactly once per address
        async def all_sent() -> list[dict[str, Any]] | None:
            rows = await deliveries(client, case_id)
            return rows if rows and all(d["status"] == "sent" for d in rows) else None

        log = await eventually(all_sent, timeout=30)  # the mail server answers before the log
        sent = [(d["channel"], d["address"]) for d in log]
        assert len(sent) == len(set(sent)) and ("email", LEADER_MAIL) in sent
        assert ("wecom", f"{providers.base}/cgi-bin/webhook/send?key=qinghe") in sent
        assert all("secret" not in d for d in log)
        [open_alert] = [
            a
            for a in (await client.get("/api/v1/alerts", params={"open": True})).json()
            if a["alert_id"] == case_id
        ]
        assert open_alert["unit_code"] == "339922" and open_alert["escalations"] == 0


async def test_an_unacknowledged_collective_alert_escalates_until_acknowledged(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(
        databases, broker, tmp_path, providers, smtp_server, XF_ALERT_ACK_TIMEOUT_MIN=60
    )
    case_id = str(uuid.uuid4())
    alert = collective(case_id, persons=12)
    async with (
        running(app) as client,
        TopicReader(broker, "alert.escalated", "alert.acknowledged") as topics,
    ):
        clock = app.state.runtime.clock

        async def state() -> dict[str, Any] | None:
            for a in (await client.get("/api/v1/alerts")).json():
                if a["alert_id"] == case_id:
                    return dict(a)
            return None

        await send(broker, alert)
        assert (await eventually(state, timeout=30))["unit_code"] == "339922"
        await clock.set_offset(clock.offset + timedelta(minutes=59))
        await eventually(lambda: mails_to(smtp_server, LEADER_MAIL, alert.case_number), timeout=30)
        assert (await state())["escalations"] == 0  # type: ignore[index]  # not yet: 59 minutes

        await clock.set_offset(clock.offset + timedelta(minutes=2))  # 61 minutes, nobody signed
        up = await eventually(
            lambda: topics.events(type_="alert.escalated", subject=case_id), timeout=30
        )
        assert up[0]["data"]["to_unit_code"] == "339900" and up[0]["data"]["escalation"] == 1
        s = await state()
        assert s and s["unit_code"] == "339900" and s["escalations"] == 1
        [mail] = await eventually(lambda: mails_to(smtp_server, CITY_MAIL, "无人签收"), timeout=30)
        assert "江临市" in mail.get_content()

        r = await client.post(
            f"/api/v1/alerts/{case_id}/ack", json={"by": "周市长", "note": "已派工作组"}
        )
        assert r.status_code == 200 and r.json()["acknowledged_by"] == "周市长"
        again = await client.post(f"/api/v1/alerts/{case_id}/ack", json={"by": "别人"})
        assert again.status_code == 409 and "周市长" in again.json()["message"]
        assert (await client.post("/api/v1/alerts/nope/ack", json={"by": "x"})).status_code == 404
        blank = await client.post(f"/api/v1/alerts/{case_id}/ack", json={"by": ""})
        assert blank.status_code == 422
        await eventually(
            lambda: topics.events(type_="alert.acknowledged", subject=case_id), timeout=30
        )

        await clock.set_offset(clock.offset + timedelta(hours=3))  # acknowledged: no more
        await app.state.notify.escalator.run_once()
        s = await state()
        assert s and s["escalations"] == 1 and s["next_escalation_at"] is None


async def test_a_webhook_failing_twice_then_succeeding_gets_exactly_one_delivery(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    providers.wecom_script = [
        (500, {"errmsg": "busy"}),
        (200, {"errcode": 45009, "errmsg": "freq"}),
    ]
    app = await notify(databases, broker, tmp_path, providers, smtp_server)
    case_id = str(uuid.uuid4())
    alert = collective(case_id)
    async with running(app) as client:
        event_id = str(uuid.uuid4())
        await send(broker, alert, envelope_id=event_id)

        async def robot_done() -> dict[str, Any] | None:
            rows = await deliveries(client, case_id, channel="wecom")
            return rows[0] if rows and rows[0]["status"] == "sent" else None

        row = await eventually(robot_done, timeout=30)
        assert (row["attempts"] == 3 and "freq" in (row["last_error"] or "")) or row[
            "attempts"
        ] == 3
        posts = robot_posts(providers, alert.case_number)
        assert len(posts) == 3  # two failures, then the one delivery
        assert len({p.headers["X-Xinfang-Delivery"] for p in posts}) == 1  # the same delivery

        # the event redelivered by the broker: nobody is told twice
        await send(broker, alert, envelope_id=event_id)
        marker = collective(str(uuid.uuid4()))
        await send(broker, marker)  # same partition order is not guaranteed: wait for it anyway
        await eventually(lambda: robot_posts(providers, marker.case_number), timeout=30)
        assert len(robot_posts(providers, alert.case_number)) == 3
        assert len(await deliveries(client, case_id, channel="wecom")) == 1


async def test_a_delivery_that_keeps_failing_is_dead_lettered_and_logged(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    providers.wecom_reply = (503, {"errmsg": "down"})
    app = await notify(
        databases, broker, tmp_path, providers, smtp_server, XF_DELIVERY_MAX_ATTEMPTS=3
    )
    case_id = str(uuid.uuid4())
    async with running(app) as client, TopicReader(broker, "dlq.notify") as dlq:
        await send(broker, collective(case_id))

        async def dead() -> list[dict[str, Any]]:
            return await deliveries(client, case_id, status="dead")

        [row] = await eventually(dead, timeout=30)
        assert row["channel"] == "wecom" and row["attempts"] == 3 and "503" in row["last_error"]
        letters = await eventually(
            lambda: [v for v in dlq.values("dlq.notify") if v.get("case_id") == case_id], timeout=30
        )
        assert letters[0]["delivery_id"] == row["delivery_id"] and letters[0]["channel"] == "wecom"
        # the other channels were not held back by the failing robot
        assert {d["channel"] for d in await deliveries(client, case_id, status="sent")} >= {
            "email",
            "sms",
        }


def petition(case_id: str) -> PetitionReceived:
    return PetitionReceived(
        case_id=case_id,
        case_number=f"339922-2026-{uuid.uuid4().int % 10**6:06d}",
        channel="online",
        received_at=datetime.now(UTC),
        receiving_office_code="339922",
        receiving_office_name="清河县信访局",
        anonymous=False,
        petitioners=[PetitionerInfo(name="刘某", phone="13800001111", email="liu@example.com")],
        persons=1,
        content="反映农村低保认定不公",
        query_code="ABCD2345EF",
    )


async def test_the_petitioner_gets_a_receipt_with_the_query_code_and_the_acceptance(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(databases, broker, tmp_path, providers, smtp_server)
    case_id = str(uuid.uuid4())
    p = petition(case_id)
    async with running(app):
        await send(broker, p)
        [sms] = await eventually(
            lambda: sms_to(providers, "13800001111", p.case_number), timeout=30
        )
        assert sms.body["template_id"] == "petitioner_receipt"
        assert sms.body["params"]["query_code"] == "ABCD2345EF" and "ABCD2345EF" in sms.body["text"]
        [mail] = await eventually(
            lambda: mails_to(smtp_server, "liu@example.com", "ABCD2345EF"), timeout=30
        )
        assert "/cx/ABCD2345EF" in mail.get_content()

        now = datetime.now(UTC)
        for old, new, note in (
            ("routed", "accepted", "受理"),
            ("accepted", "extended", "延期30日：需现场勘测"),
        ):
            await send(
                broker,
                CaseStatusChanged(
                    case_id=case_id,
                    case_number=p.case_number,
                    old_status=old,
                    new_status=new,
                    changed_at=now,
                    actor="经办人",
                    note=note,
                    handling_unit_name="清河县民政局",
                    next_step="将于60日内出具处理意见书",
                ),
            )
        await eventually(
            lambda: sms_to(providers, "13800001111", "已由清河县民政局受理"), timeout=30
        )
        [ext] = await eventually(lambda: sms_to(providers, "13800001111", "需现场勘测"), timeout=30)
        assert ext.body["template_id"] == "petitioner_extended"


async def test_quiet_hours_hold_routine_messages_but_not_urgent_alerts(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await notify(databases, broker, tmp_path, providers, smtp_server)
    case_id, alert_id = str(uuid.uuid4()), str(uuid.uuid4())
    alert = collective(alert_id)
    async with running(app) as client:
        # quiet from the service's "now" on (its manual clock follows the shared broker)
        worker = app.state.notify.worker
        hour = app.state.runtime.clock.now().astimezone(SHANGHAI).hour
        worker.settings = worker.settings.model_copy(
            update={"quiet_hours": (hour, (hour + 2) % 24)}
        )
        await send(broker, petition(case_id))
        await send(broker, alert)
        await eventually(lambda: sms_to(providers, LEADER_PHONE, alert.case_number), timeout=30)

        async def held() -> list[dict[str, Any]]:
            rows = await deliveries(client, case_id, channel="sms")
            return [r for r in rows if r["last_error"] and "免打扰" in r["last_error"]]

        [row] = await eventually(held, timeout=30)
        assert row["status"] == "pending" and row["attempts"] == 0
        until = datetime.fromisoformat(row["next_attempt_at"]).astimezone(SHANGHAI)
        assert until.hour == (hour + 2) % 24 and until.minute == 0
        assert sms_to(providers, "13800001111") == []
