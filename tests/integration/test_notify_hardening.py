"""Notify under the issue-13 probes, in-process on the real broker with a real SMTP server and
robot peer: alerts nobody acknowledges at the top of the tree (bounded reminders, however far the
manual clock jumps), a 督办 order addressed to its issuer, notices after a clock jump, robot
markdown from petitioners' text, and the HTTP surface (CSRF, huge ids, who may 签收, names)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi import FastAPI
from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app as notify_app
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_shared.events import (
    CollectiveAlert,
    DeadlineOverdue,
    EventData,
    SupervisionOrderIssued,
    new_event,
)

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.kafka_helpers import TopicReader, produce
from tests.peers import CollectingHandler, FakeProviders, parse_mail

COUNTY, CITY, DUTY = "wang@qinghe.example", "zhou@jianglin.example", "duty@xfj.jianglin.example"
QINGHE_XFJ, ZRZY = "xfj@qinghe.example", "zrzy@qinghe.example"


def person(pid: str, unit: str, email: str, roles: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "name": pid,
        "unit": unit,
        "roles": roles,
        "channels": ["inbox", "email"],
        "email": email,
        **extra,
    }


async def app_with(
    databases: Databases,
    broker: str,
    tmp_path: Path,
    providers: FakeProviders,
    smtp: tuple[CollectingHandler, int],
    **extra: Any,
) -> FastAPI:
    doc = {
        "people": [
            person("qinghe-leader", "339922", COUNTY, ["leader"]),
            person("city-leader", "339900", CITY, ["leader"]),
            person(
                "city-duty",
                "339900-xfj",
                DUTY,
                ["staff"],
                subscribe={"subtree": "339900", "levels": ["urgent"]},
            ),
            person("qinghe-xfj", "339922-xfj", QINGHE_XFJ, ["staff"]),
            person("qinghe-zrzy", "339922-zrzy", ZRZY, ["staff"]),
        ],
        "robots": [
            {
                "unit": "339922",
                "kind": "wecom",
                "levels": ["urgent"],
                "url": f"{providers.base}/cgi-bin/webhook/send?key=qinghe",
            }
        ],
    }
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    settings = NotifySettings(
        XF_NOTIFY_DATABASE_URL=await databases.new("notify"),
        XF_NOTIFY_DIRECTORY_FILE=path,
        XF_SMTP_HOST="127.0.0.1",
        XF_SMTP_PORT=smtp[1],
        XF_DELIVERY_BACKOFF_S=0.1,
        XF_ALERT_CHECK_S=0.5,
        XF_QUIET_HOURS="",
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
        **extra,
    )
    return notify_app(settings)


def collective(office: str, name: str, place: str, summary: str = "村民反映补偿款未发放") -> Any:
    return CollectiveAlert(
        case_id=str(uuid.uuid4()),
        case_number=f"{office}-2026-{uuid.uuid4().int % 10**6:06d}",
        persons=9,
        threshold=5,
        receiving_office_code=office,
        receiving_office_name=name,
        matter_location_code=place,
        summary=summary,
        raised_at=datetime.now(UTC),
    )


async def send(broker: str, data: EventData, *, at: datetime | None = None) -> str:
    envelope = new_event(data=data, source="/test", time=at or datetime.now(UTC))
    await produce(broker, data.TOPIC, envelope.to_bytes(), key=data.case_id.encode())  # type: ignore[attr-defined]
    return envelope.id


def mails(smtp: tuple[CollectingHandler, int], to: str, needle: str) -> list[Any]:
    """The messages to ``to`` that mention ``needle``, one per delivery: a send the worker
    retried after a timeout (SMTP is at least once) is the same delivery, counted once."""
    out, deliveries = [], set()
    for env in smtp[0].envelopes:
        msg = parse_mail(env)
        if to in env.rcpt_tos and needle in str(msg["Subject"]) + msg.get_content():
            delivery = msg["X-Xinfang-Delivery"]
            if delivery is not None and delivery in deliveries:
                continue
            deliveries.add(delivery)
            out.append(msg)
    return out


async def alert_row(client: httpx.AsyncClient, alert_id: str) -> dict[str, Any] | None:
    for a in (await client.get("/api/v1/alerts")).json():
        if a["alert_id"] == alert_id:
            return dict(a)
    return None


async def test_an_alert_nobody_acknowledges_at_the_top_is_reminded_a_bounded_number_of_times(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(databases, broker, tmp_path, providers, smtp_server)
    alert = collective("339922101", "清河镇信访办", "339922101201")  # a township's visit
    n = alert.case_number
    async with running(app) as client:
        clock, escalator = app.state.runtime.clock, app.state.notify.escalator
        await send(broker, alert)
        await eventually(lambda: mails(smtp_server, DUTY, n), timeout=30)  # told at once

        # three hours on at once: up to the county (its hour), then the city (the next hour);
        # the city's duty desk heard of the alert at the county a moment ago: not again
        await clock.set_offset(clock.offset + timedelta(hours=3))
        await eventually(lambda: mails(smtp_server, CITY, "提级至江临市"), timeout=30)
        for _ in range(3):
            await escalator.run_once()
        row = await alert_row(client, alert.case_id)
        assert row and row["unit_code"] == "339900" and row["escalations"] == 2
        await eventually(lambda: len(mails(smtp_server, DUTY, n)) == 2, timeout=30)
        assert len(mails(smtp_server, CITY, n)) == 1

        # twelve days on: every reminder point passed is one reminder, then none ever again
        await clock.set_offset(clock.offset + timedelta(days=12))
        # this alert's reminders (the broker is the session's: another test's alert is not ours)
        [reminder] = await eventually(
            lambda: [m for m in mails(smtp_server, CITY, n) if "仍无人签收" in str(m["Subject"])],
            timeout=30,
        )
        assert "第7次提醒" in reminder.get_content()  # the points passed: one mail
        await clock.set_offset(clock.offset + timedelta(days=30))
        for _ in range(3):
            await escalator.run_once()
        row = await alert_row(client, alert.case_id)
        assert row and row["escalations"] == 2 and row["next_escalation_at"] is None
        await eventually(lambda: len(mails(smtp_server, DUTY, n)) == 3, timeout=30)
        assert len(mails(smtp_server, CITY, n)) == 2
        assert not mails(smtp_server, CITY, "第3次提级")
        assert len(mails(smtp_server, COUNTY, n)) == 2  # the visit, its escalation to the county


async def test_the_city_is_reminded_on_its_schedule_one_reminder_per_point(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(
        databases, broker, tmp_path, providers, smtp_server, XF_ALERT_REMIND_AFTER_H=[1, 4]
    )
    alert = collective("339922", "清河县信访局", "339922101201")
    n = alert.case_number
    async with running(app) as client:
        clock = app.state.runtime.clock
        await send(broker, alert)
        await eventually(lambda: mails(smtp_server, CITY, n), timeout=30)
        await clock.set_offset(clock.offset + timedelta(minutes=61))  # up to the city
        await eventually(lambda: mails(smtp_server, CITY, "已提级"), timeout=30)
        await clock.set_offset(clock.offset + timedelta(minutes=70))  # its first point (1 h)
        [first] = await eventually(lambda: mails(smtp_server, CITY, "仍无人签收"), timeout=30)
        assert "第1次提醒" in first.get_content() and "最多7次" in first.get_content()
        row = await alert_row(client, alert.case_id)
        assert row and row["reminders"] == 1 and row["escalations"] == 1
        # acknowledged: no more reminders
        r = await client.post(f"/api/v1/alerts/{alert.case_id}/ack", json={"by": "周市长"})
        assert r.status_code == 200
        await clock.set_offset(clock.offset + timedelta(days=3))
        await app.state.notify.escalator.run_once()
        assert len(mails(smtp_server, CITY, "仍无人签收")) == 1


async def test_a_supervision_order_to_its_own_issuer_reaches_it_once_and_nothing_is_lost(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(databases, broker, tmp_path, providers, smtp_server)
    order = SupervisionOrderIssued(
        case_id=str(uuid.uuid4()),
        case_number=f"339922-2026-{uuid.uuid4().int % 10**6:06d}",
        order_id=str(uuid.uuid4()),
        issued_by="339922-xfj",
        issued_by_name="清河县信访局",
        issued_to="339922-xfj",
        issued_to_name="清河县信访局",
        deadline_label="办理期限",
        due_date=date.today(),
        feedback_due=date.today() + timedelta(days=5),
        issued_at=datetime.now(UTC),
    )
    async with running(app) as client, TopicReader(broker, "dlq.notify") as dlq:
        event_id = await send(broker, order)
        [mail] = await eventually(
            lambda: mails(smtp_server, QINGHE_XFJ, order.case_number), timeout=30
        )
        assert "督办" in str(mail["Subject"])
        log = (await client.get("/api/v1/notifications", params={"case_id": order.case_id})).json()
        assert [n["recipient"] for n in log] == ["339922-xfj"]
        marker = collective("339922", "清河县信访局", "339922101201")
        await send(broker, marker)
        await eventually(lambda: mails(smtp_server, COUNTY, marker.case_number), timeout=30)
        assert not [v for v in dlq.values("dlq.notify") if event_id in json.dumps(v)]
        assert len(mails(smtp_server, QINGHE_XFJ, order.case_number)) == 1


async def test_a_notice_after_a_clock_jump_is_dated_by_the_business_clock_in_its_mail_too(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(databases, broker, tmp_path, providers, smtp_server)
    async with running(app) as client:
        # supervision followed a jump of the clock already; this service not yet
        jumped = app.state.runtime.clock.now() + timedelta(days=12)
        await _overdue_after_a_jump(client, broker, smtp_server, jumped)


async def _overdue_after_a_jump(
    client: httpx.AsyncClient,
    broker: str,
    smtp_server: tuple[CollectingHandler, int],
    jumped: datetime,
) -> None:
    overdue = DeadlineOverdue(
        case_id=str(uuid.uuid4()),
        case_number=f"339922-2026-{uuid.uuid4().int % 10**6:06d}",
        deadline_id=str(uuid.uuid4()),
        deadline_kind="handling",
        deadline_label="办理期限",
        unit_code="339922-zrzy",
        unit_name="清河县自然资源和规划局",
        due_date=(jumped - timedelta(days=1)).date(),
        days_left=-1,
        days_overdue=1,
    )
    await send(broker, overdue, at=jumped)
    [mail] = await eventually(lambda: mails(smtp_server, ZRZY, overdue.case_number), timeout=30)
    [notice] = (
        await client.get("/api/v1/notifications", params={"case_id": overdue.case_id})
    ).json()
    dated = datetime.fromisoformat(notice["created_at"])
    assert dated >= jumped and dated.date() > overdue.due_date
    sent = parsedate_to_datetime(str(mail["Date"]))
    assert abs(sent - dated) < timedelta(minutes=5), (mail["Date"], dated)


async def test_a_petitioners_markdown_reaches_the_robot_as_plain_text(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(databases, broker, tmp_path, providers, smtp_server)
    summary = '[点此领取补偿](http://evil.example/x) **紧急** <font color="info">已处理</font>'
    alert = collective("339922", "清河县信访局", "339922101201", summary=summary)
    async with running(app):
        await send(broker, alert)

        def posts() -> list[str]:
            return [
                r.body["markdown"]["content"]
                for r in providers.requests
                if r.path.endswith("/webhook/send")
                and alert.case_number in r.body["markdown"]["content"]
            ]

        [content] = await eventually(posts, timeout=30)
        assert "点此领取补偿" in content and "紧急" in content
        assert "](http" not in content.replace("[查看详情](http", "")
        assert "**" not in content and '<font color="info">' not in content
        assert "http://evil.example" not in content
        assert content.count('<font color="warning">') == 1  # our own emphasis only


def bearer(app: FastAPI, who: Principal, ttl_s: int = 3600) -> dict[str, str]:
    rt = app.state.runtime
    token = issue_token(who, secret=rt.settings.auth_secret, ttl_s=ttl_s, now=rt.clock.now())
    return {"Authorization": f"Bearer {token}"}


def cookie_of(app: FastAPI, who: Principal) -> str:
    rt = app.state.runtime
    return issue_token(who, secret=rt.settings.auth_secret, ttl_s=3600, now=rt.clock.now())


SUPERVISOR = Principal("qinghe.duban", "清河县督办员", Role.SUPERVISOR, "339922")
REGISTRAR = Principal("qinghe.dengji", "清河县登记员", Role.REGISTRAR, "339922")


async def test_the_dashboards_http_surface_refuses_forgery_and_bad_input(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(
        databases, broker, tmp_path, providers, smtp_server, XF_SSE_HEARTBEAT_S=0.2
    )
    alert = collective("339922", "清河县信访局", "339922101201")
    async with running(app) as client:
        await send(broker, alert)
        await eventually(lambda: alert_row(client, alert.case_id), timeout=30)
        await _api_checks(app, client, alert)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as browser:
            await _browser_checks(app, browser, alert)


async def _api_checks(app: FastAPI, client: httpx.AsyncClient, alert: Any) -> None:

    # huge ids are no ids: 422, not 500; a Last-Event-ID that is no id is ignored
    big = str(2**63)
    for path, params in (
        ("/api/v1/notifications", {"after": big}),
        ("/api/v1/stream", {"since": big}),
    ):
        r = await client.get(path, params=params)
        assert r.status_code == 422, (path, r.text)

    def short() -> dict[str, str]:  # the stream ends when its token does
        return bearer(app, SUPERVISOR, ttl_s=1)

    for garbage in (b"\xb2", "-1", "abc"):  # b"\xb2": "²" (latin-1), a digit to Python
        r = await client.get("/api/v1/stream", headers={**short(), "Last-Event-ID": garbage})
        assert r.status_code == 200, (garbage, r.text)
    # beyond 64 bits the platform refuses the header before notify reads it
    r = await client.get("/api/v1/stream", headers={**short(), "Last-Event-ID": big})
    assert r.status_code == 422, r.text
    # without ?since= the stream says at once that it is connected, then live events
    r = await client.get("/api/v1/stream", headers=short())
    assert r.text.startswith("retry: 3000\n\n: 已连接")

    # recipients by name, not by code
    log = (await client.get("/api/v1/notifications", params={"case_id": alert.case_id})).json()
    names = {n["recipient"]: n["recipient_name"] for n in log}
    assert names["339922:leaders"] == "清河县领导"
    assert names["339922-xfj"] == "清河县信访局"

    # who signs: the roles the directory names (leaders, supervisors), not a registrar
    rows = (await client.get("/api/v1/alerts", headers=bearer(app, REGISTRAR))).json()
    [mine] = [a for a in rows if a["alert_id"] == alert.case_id]
    assert mine["can_acknowledge"] is False
    r = await client.post(
        f"/api/v1/alerts/{alert.case_id}/ack", json={}, headers=bearer(app, REGISTRAR)
    )
    assert r.status_code == 403 and r.json()["error"] == "not_a_signer"
    rows = (await client.get("/api/v1/alerts", headers=bearer(app, SUPERVISOR))).json()
    assert next(a for a in rows if a["alert_id"] == alert.case_id)["can_acknowledge"]
    r = await client.post(
        f"/api/v1/alerts/{alert.case_id}/ack",
        json={"note": "已到场\u0000"},
        headers=bearer(app, SUPERVISOR),
    )
    assert r.status_code == 422
    assert (await alert_row(client, alert.case_id) or {})["acknowledged_at"] is None


async def _browser_checks(app: FastAPI, browser: httpx.AsyncClient, alert: Any) -> None:
    browser.cookies.set("xf_notify_session", cookie_of(app, SUPERVISOR))
    ack = f"/api/v1/alerts/{alert.case_id}/ack"
    # a page of a sibling origin (same site) posting with the cookie: refused, no change
    for forged in (
        {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9999"},
        {"Origin": "http://127.0.0.1:9999"},
    ):
        r = await browser.post(ack, headers=forged)
        assert r.status_code == 403 and r.json()["error"] == "cross_origin_request"
        r = await browser.post("/logout", headers=forged)
        assert r.status_code == 403 and "set-cookie" not in r.headers
        r = await browser.post(
            "/login", data={"username": "a.b", "password": "whatever-123"}, headers=forged
        )
        assert r.status_code == 403
    assert (await alert_row(browser, alert.case_id) or {})["acknowledged_at"] is None
    # the dashboard's own page: the same origin
    r = await browser.post(ack, headers={"Sec-Fetch-Site": "same-origin", "Origin": "http://test"})
    assert r.status_code == 200, r.text
    r = await browser.post(ack, headers={"Origin": "http://test"})
    assert r.status_code == 409

    # the page itself: no inline script or style (it runs under a strict CSP)
    page = await browser.get("/")
    assert page.status_code == 200
    assert '<script src="/static/dashboard.js"></script>' in page.text
    assert "<style" not in page.text and " style=" not in page.text
    assert "<script>" not in page.text and " onclick=" not in page.text
    js = await browser.get("/static/dashboard.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert (await browser.get("/static/dashboard.css")).status_code == 200
    assert (await browser.get("/static/..%2Fmain.py")).status_code == 404


async def test_bad_input_to_every_endpoint_is_a_4xx_never_a_5xx(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    app = await app_with(databases, broker, tmp_path, providers, smtp_server)
    nul, big, nul_in_path = "a\u0000b", str(2**64), "a%00b"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        *(
            ("GET", "/api/v1/notifications", {"params": {name: nul}})
            for name in ("case_id", "recipient", "org")
        ),
        *(
            ("GET", "/api/v1/deliveries", {"params": {name: nul}})
            for name in ("case_id", "address", "person", "channel", "status")
        ),
        ("GET", "/api/v1/deliveries", {"params": {"limit": big}}),
        ("GET", "/api/v1/notifications", {"params": {"after": str(2**40)}}),
        ("GET", "/api/v1/alerts", {"params": {"limit": big}}),
        ("GET", "/api/v1/alerts", {"params": {"open": "maybe"}}),
        ("GET", "/api/v1/stream", {"params": {"recipient": nul}}),
        ("GET", f"/api/v1/inbox/{nul_in_path}", {}),
        ("GET", "/api/v1/inbox/qinghe-leader", {"params": {"limit": big}}),
        ("POST", f"/api/v1/inbox/qinghe-leader/{nul_in_path}/read", {}),
        ("POST", f"/api/v1/alerts/{nul_in_path}/ack", {"json": {}}),
        ("POST", f"/api/v1/alerts/{'x' * 300}/ack", {"json": {}}),
        ("POST", "/api/v1/alerts/x/ack", {"json": {"by": nul}}),
        ("POST", "/api/v1/alerts/x/ack", {"json": {"by": 7}}),
        ("POST", "/api/v1/alerts/x/ack", {"json": []}),
        ("POST", "/api/v1/alerts/x/ack", {"content": b"{not json"}),
        ("POST", "/api/v1/alerts/x/ack", {"json": {"unit_code": nul}}),
        ("GET", "/", {"params": {"org": nul}}),
        ("GET", "/login", {"params": {"next": nul, "expired": "maybe"}}),
        ("POST", "/login", {"content": b"username=\xff\xfe&password=x"}),
        ("POST", "/login", {"data": {"username": nul, "password": "x"}}),
        ("GET", "/static/none.js", {}),
    ]
    async with running(app) as client:
        for method, path, kwargs in calls:
            r = await client.request(method, path, **kwargs)
            assert r.status_code < 500, (method, path, kwargs, r.status_code, r.text)
            if path.startswith("/api/"):  # the pages may send to the login form instead
                assert r.status_code >= 400, (method, path, kwargs, r.status_code, r.text)
