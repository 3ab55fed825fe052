"""检举控告 (issue #7): the informant of an accusation is never named outside intake. Their
identity is encrypted at rest, no event carries it, only the leadership of the discipline body
(纪检监察) competent for the accusation may reveal it (issue #13: not the receiving office, nor
the leaders of the unit accused), with a reason, and every attempt is audited."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from xinfang_intake.main import create_app
from xinfang_intake.petitions import models
from xinfang_intake.petitions.models import informant_reveals, sealed_informants
from xinfang_intake.petitions.sealing import new_key
from xinfang_intake.petitions.validation import id_hash, mask_id_number
from xinfang_notify.models import case_contacts
from xinfang_notify.models import deliveries as notify_deliveries
from xinfang_notify.models import processed_events as notify_processed
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_intake import VALID_ID, intake_settings, petition
from tests.integration.test_notify_delivery import notify, sms_to
from tests.integration.test_routing import routing
from tests.kafka_helpers import TopicReader
from tests.peers import CollectingHandler, FakeProviders

INFORMANT = {
    "name": "李秀英",
    "id_number": "339922196507040028",
    "phone": "13957100456",
    "email": "lxy@example.com",
    "address": "清河县清河镇东岗村5组",
}
PLACEHOLDER = "检举人（保密）"


def secrets(salt: str) -> list[str]:
    """Everything that would identify the informant, in every form intake knows it."""
    return [
        *INFORMANT.values(),
        mask_id_number(INFORMANT["id_number"]),
        id_hash(INFORMANT["id_number"], salt),
    ]


def accusation(**overrides: Any) -> dict[str, Any]:
    doc = petition(
        channel="letter",
        petitioners=[INFORMANT],
        category=None,
        title="反映村主任虚报冒领危房改造补助",
        content="东岗村村主任在危房改造补助中虚报冒领，套取补助资金，请求调查处理。",
    )
    doc.update(overrides)
    return doc


def bearer(app: Any, username: str, role: Role, org_code: str) -> dict[str, str]:
    rt = app.state.runtime
    who = Principal(username=username, name=username.upper(), role=role, org_code=org_code)
    token = issue_token(who, secret=rt.settings.auth_secret, ttl_s=3600, now=rt.clock.now())
    return {"Authorization": f"Bearer {token}"}


async def stored_values(app: Any) -> list[object]:
    """Every value in every table of intake's database."""
    out: list[object] = []
    async with app.state.runtime.sessions() as s:
        for table in models.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                out.extend(row)
    return out


def contains(values: list[object], secret: str) -> bool:
    for v in values:
        if isinstance(v, bytes) and secret.encode() in v:
            return True
        if not isinstance(v, bytes) and secret in json.dumps(v, ensure_ascii=False, default=str):
            return True
    return False


async def audit_rows(app: Any) -> list[Any]:
    async with app.state.runtime.sessions() as s:
        return list(
            (await s.execute(select(informant_reveals).order_by(informant_reveals.c.id))).all()
        )


async def test_an_informant_is_named_nowhere_at_rest_in_events_or_on_the_status_pages(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    salt = settings.id_hash_salt
    app = create_app(settings)
    async with TopicReader(broker, "petition.received") as topic, running(app) as client:
        # together, so that the writer commits sealed and ordinary petitions in one batch
        flagged, by_word, ordinary = await asyncio.gather(
            client.post("/api/v1/petitions", json=accusation(accusation=True)),
            client.post(
                "/api/v1/petitions",
                json=accusation(title=None, content="我要举报镇干部吃拿卡要，办个证要送好处费。"),
            ),
            client.post("/api/v1/petitions", json=petition()),
        )
        for r in (flagged, by_word, ordinary):
            assert r.status_code == 201, r.text
        for r in (flagged, by_word):
            assert r.json()["informant_sealed"] is True
            assert "当面告知检举人" in r.json()["message"]
            assert r.json()["query_code"]  # the desk hands it over
        assert ordinary.json()["informant_sealed"] is False

        for r in (flagged, by_word):
            created = r.json()
            [event] = await eventually(
                lambda c=created: topic.events(type_="petition.received", subject=c["case_id"]),
                what="petition.received of the accusation",
            )
            text = json.dumps(event, ensure_ascii=False)
            assert not [s for s in secrets(salt) if s in text]
            assert created["query_code"] not in text  # given at the desk, not on the bus
            data = event["data"]
            assert data["informant_sealed"] is True and data["anonymous"] is False
            assert [p["name"] for p in data["petitioners"]] == [PLACEHOLDER]
            assert not any(v for k, v in data["petitioners"][0].items() if k != "name")

            for url in (
                f"/api/v1/petitions/{created['query_code']}",
                f"/cx/{created['query_code']}",
            ):
                page = await client.get(url)
                assert page.status_code == 200 and created["case_number"] in page.text
                assert not [s for s in secrets(salt) if s in page.text]

        # an ordinary petition still names its petitioner (so the checks above can fail)
        [plain] = await eventually(
            lambda: topic.events(type_="petition.received", subject=ordinary.json()["case_id"])
        )
        assert plain["data"]["petitioners"][0]["name"] == "王建国"
        assert plain["data"]["informant_sealed"] is False

        values = await stored_values(app)
        assert contains(values, "王建国") and contains(values, VALID_ID)
        assert not [s for s in secrets(salt) if contains(values, s)]
        async with app.state.runtime.sessions() as s:
            sealed = (await s.execute(select(func.count()).select_from(sealed_informants))).scalar()
        assert sealed == 2


async def test_an_accusation_told_in_everyday_words_is_sealed_at_the_desk(
    broker: str, databases: Databases
) -> None:
    """No word of accusation, no category, and the registrar ticked nothing (accusation:
    false): the classifier shared with routing reads an accusation, so intake seals the
    informant before storing, and the history tells the clerk why."""
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    everyday = accusation(
        title=None,
        accusation=False,
        content="村支书把上面拨给困难户的救济款扣下来，一部分自己花了，一部分给了他亲戚。",
    )
    async with TopicReader(broker, "petition.received") as topic, running(app) as client:
        r = await client.post("/api/v1/petitions", json=everyday)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["informant_sealed"] is True
        [event] = await eventually(
            lambda: topic.events(type_="petition.received", subject=created["case_id"]),
            what="petition.received of the accusation",
        )
        assert event["data"]["informant_sealed"] is True
        text = json.dumps(event, ensure_ascii=False)
        assert not [s for s in secrets(settings.id_hash_salt) if s in text]
        status = (await client.get(f"/api/v1/petitions/{created['query_code']}")).json()
        assert "系统识别为可能的检举控告，检举人信息保密" in status["history"][0]["note"]
        assert not [
            s for s in secrets(settings.id_hash_salt) if contains(await stored_values(app), s)
        ]


async def test_only_the_competent_discipline_bodys_leadership_reveals_and_every_attempt_is_audited(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        sealed = (await client.post("/api/v1/petitions", json=accusation(accusation=True))).json()
        ordinary = (await client.post("/api/v1/petitions", json=petition())).json()
        url = f"/api/v1/petitions/{sealed['case_id']}/informant"
        why = {"reason": "县纪委立案调查需核实检举人身份（审批单 2026-017）"}
        leader = bearer(app, "qh-jw-leader", Role.LEADER, "339922-jw")

        # no reason, a reason too short to say anything, an unknown field, a NUL: 422
        for body in (
            {},
            {"reason": "看看"},
            {"reason": "     "},
            {**why, "extra": 1},
            {"reason": "县纪委立案调查\u0000需核实"},
            {"reason": 12345},
        ):
            r = await client.post(url, json=body, headers=leader)
            assert r.status_code == 422, (body, r.text)
            assert INFORMANT["name"] not in r.text
        # a case id that cannot be one (a NUL, a bidi control) is refused before any lookup
        for bad_id in ("%00", "%E2%80%AE1", "a%20b"):
            r = await client.post(f"/api/v1/petitions/{bad_id}/informant", json=why, headers=leader)
            assert r.status_code == 422 and r.json()["message"], (bad_id, r.text)
        odd = {"case_id": "\u0000"}
        r = await client.get("/api/v1/informant-reveals", params=odd, headers=leader)
        assert r.status_code == 422
        assert await audit_rows(app) == []
        assert (await client.post(url, json=why, headers={"Authorization": ""})).status_code == 401

        # anyone but the discipline body's leadership: 403 with the reason, each attempt kept
        for username, role, org_code in (
            ("qh-jw", Role.HANDLER, "339922-jw"),
            ("qh-desk", Role.REGISTRAR, "339922"),
            ("qh-duban", Role.SUPERVISOR, "339922"),
            ("qh-leader", Role.LEADER, "339922"),  # the county's, not its 纪委's, leadership
            ("qh-admin", Role.ADMIN, "339922"),
        ):
            r = await client.post(url, json=why, headers=bearer(app, username, role, org_code))
            assert r.status_code == 403 and r.json()["error"] == "forbidden", (username, r.text)
            assert "纪检监察" in r.json()["message"] and r.json()["message_en"]
            assert "清河县纪委监委" in r.json()["message"]
            assert INFORMANT["name"] not in r.text
        assert (await client.post(url, json=why)).status_code == 403  # a service account
        # another county's discipline leader: exactly as a case that does not exist
        lj = bearer(app, "lj-leader", Role.LEADER, "339902-jw")
        outside = await client.post(url, json=why, headers=lj)
        missing = await client.post(
            f"/api/v1/petitions/{uuid.uuid4()}/informant", json=why, headers=lj
        )
        assert outside.status_code == missing.status_code == 404
        assert outside.json() == missing.json()
        refused = await audit_rows(app)
        assert [(a.username, a.outcome) for a in refused] == [
            ("qh-jw", "refused"),
            ("qh-desk", "refused"),
            ("qh-duban", "refused"),
            ("qh-leader", "refused"),
            ("qh-admin", "refused"),
            ("service:tests", "refused"),
            ("lj-leader", "refused"),
        ]

        # the county 纪委's leader: the identity, once the audit row is written
        r = await client.post(url, json=why, headers=leader)
        assert r.status_code == 200, r.text
        assert r.headers["Cache-Control"] == "no-store"
        revealed = r.json()
        assert revealed["informants"] == [INFORMANT]
        assert revealed["case_number"] == sealed["case_number"]
        assert revealed["revealed_by"] == "QH-JW-LEADER（qh-jw-leader）"
        last = (await audit_rows(app))[-1]
        assert last.id == revealed["audit_id"] and last.outcome == "revealed"
        assert (last.username, last.role, last.org_code) == (
            "qh-jw-leader",
            "leader",
            "339922-jw",
        )
        assert last.reason == why["reason"] and last.case_id == sealed["case_id"]
        assert isinstance(last.at, datetime)
        # the city's 纪委 above it may too; an ordinary petition has nothing sealed
        city = bearer(app, "jl-jw-leader", Role.LEADER, "339900-jw")
        assert (await client.post(url, json=why, headers=city)).status_code == 200
        plain = await client.post(
            f"/api/v1/petitions/{ordinary['case_id']}/informant", json=why, headers=leader
        )
        assert plain.status_code == 404 and plain.json()["error"] == "not_sealed"
        assert len(await audit_rows(app)) == 9

        # the audit: leaders and administrators, of their own subtree only
        log = (await client.get("/api/v1/informant-reveals", headers=leader)).json()
        assert [(a["username"], a["outcome"]) for a in log][:2] == [
            ("jl-jw-leader", "revealed"),
            ("qh-jw-leader", "revealed"),
        ]
        assert len(log) == 9 and log[0]["outcome_label"] == "已查阅"
        assert log[1]["reason"] == why["reason"] and log[1]["role_label"] == "包案领导"
        one = await client.get(
            "/api/v1/informant-reveals", params={"case_id": sealed["case_id"]}, headers=city
        )
        assert len(one.json()) == 9
        assert (await client.get("/api/v1/informant-reveals", headers=lj)).json() == []
        handler = bearer(app, "qh-jw", Role.HANDLER, "339922-jw")
        assert (await client.get("/api/v1/informant-reveals", headers=handler)).status_code == 403

        # an altered sealed value does not open: a clear error, the attempt audited
        async with app.state.runtime.sessions() as s, s.begin():
            blob = (
                await s.execute(
                    select(sealed_informants.c.identity).where(
                        sealed_informants.c.case_id == sealed["case_id"]
                    )
                )
            ).scalar_one()
            await s.execute(
                update(sealed_informants)
                .where(sealed_informants.c.case_id == sealed["case_id"])
                .values(identity=blob[:-1] + bytes([blob[-1] ^ 1]))
            )
        broken = await client.post(url, json=why, headers=leader)
        assert broken.status_code == 500 and broken.json()["reason"] == "tampered"
        assert INFORMANT["name"] not in broken.text
        assert (await audit_rows(app))[-1].outcome == "unreadable"
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                update(sealed_informants)
                .where(sealed_informants.c.case_id == sealed["case_id"])
                .values(identity=blob)
            )

    # the same database under another key: the identity stays closed, and says why
    other = create_app(settings.model_copy(update={"informant_key": new_key()}))
    async with running(other) as client:
        r = await client.post(
            url, json=why, headers=bearer(other, "qh-jw-leader", Role.LEADER, "339922-jw")
        )
        assert r.status_code == 500 and r.json()["error"] == "informant_unreadable"
        assert r.json()["reason"] == "wrong_key" and INFORMANT["name"] not in r.text


async def test_the_township_accused_cannot_reveal_who_reported_its_party_secretary(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    report = accusation(
        receiving_office_code="339922101",  # received by the township's own petition office
        matter_location_code="339922101",
        title="举报镇党委书记收受好处费",
        content="清河镇党委书记在工程发包中收受好处费，请求纪委调查。",
    )
    why = {"reason": "核实检举人身份以便回复（镇党政办）"}
    async with running(app) as client:
        desk = bearer(app, "qhz-desk", Role.REGISTRAR, "339922101")
        created = await client.post("/api/v1/petitions", json=report, headers=desk)
        assert created.status_code == 201, created.text
        url = f"/api/v1/petitions/{created.json()['case_id']}/informant"
        for username, role in (("qhz-admin", Role.ADMIN), ("qhz-leader", Role.LEADER)):
            r = await client.post(url, json=why, headers=bearer(app, username, role, "339922101"))
            assert r.status_code == 403, (username, r.text)
            assert "纪检监察" in r.json()["message"] and INFORMANT["name"] not in r.text
        # the county's 纪委 (the township has none in this tree) handles it and may reveal
        county_jw = bearer(app, "qh-jw-leader", Role.LEADER, "339922-jw")
        r = await client.post(url, json=why, headers=county_jw)
        assert r.status_code == 200 and r.json()["informants"] == [INFORMANT]
    assert [(a.username, a.outcome) for a in await audit_rows(app)] == [
        ("qhz-admin", "refused"),
        ("qhz-leader", "refused"),
        ("qh-jw-leader", "revealed"),
    ]


async def test_routing_keeps_the_case_confidential_and_notify_sends_the_informant_nothing(
    broker: str,
    databases: Databases,
    tmp_path: Path,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    settings = await intake_settings(databases, broker)
    intake = create_app(settings)
    router, _ = await routing(databases, broker)
    notifier = await notify(databases, broker, tmp_path, providers, smtp_server)
    # reported pollution: the environment bureau handles it, the informant stays secret
    report = accusation(
        category="环境污染",
        title="举报化工厂偷排",
        content="清河镇东岗村旁的化工厂夜里向河里偷排污水，河水发黑发臭。",
    )
    async with (
        TopicReader(broker, "case.routed", "petition.received") as topic,
        running(intake) as client,
        running(router),
        running(notifier),
    ):
        sealed = (await client.post("/api/v1/petitions", json=report)).json()
        plain = (
            await client.post(
                "/api/v1/petitions",
                json=petition(
                    petitioners=[{"name": "刘某", "phone": "13800001111"}], channel="online"
                ),
            )
        ).json()
        routed = await eventually(
            lambda: [
                e["data"]
                for e in topic.events(type_="case.routed", subject=sealed["case_id"])
                if e["data"]["final"]
            ],
            timeout=30,
            what="the accusation routed",
        )
        final = routed[0]
        assert final["confidential"] is True and final["kind"] == "检举控告"
        assert final["category"] == "environment_pollution"
        assert final["petitioner_key"] is None
        everything = json.dumps(topic.events(subject=sealed["case_id"]), ensure_ascii=False)
        assert not [s for s in secrets(settings.id_hash_salt) if s in everything]

        # the ordinary petitioner gets the receipt; the informant's case is handled, silently
        await eventually(lambda: sms_to(providers, "13800001111", plain["case_number"]), timeout=30)

        [received] = topic.events(type_="petition.received", subject=sealed["case_id"])

        async def handled() -> bool:
            async with notifier.state.runtime.sessions() as s:
                row = (
                    await s.execute(
                        select(notify_processed).where(
                            notify_processed.c.event_id == received["id"]
                        )
                    )
                ).first()
                return row is not None

        await eventually(handled, timeout=30, what="notify consumed the accusation")
        async with notifier.state.runtime.sessions() as s:
            assert (
                await s.execute(
                    select(case_contacts).where(case_contacts.c.case_id == sealed["case_id"])
                )
            ).first() is None
            assert (
                await s.execute(
                    select(notify_deliveries).where(
                        notify_deliveries.c.case_id == sealed["case_id"]
                    )
                )
            ).all() == []
        assert not [r for r in providers.requests if INFORMANT["phone"] in json.dumps(r.body)]
