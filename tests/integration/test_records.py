"""The staff workbench's reading of intake (issue #16): a record for the people in its scope
(404 outside, like a missing one; a sealed informant stays sealed), the search, the
registrar's "same petitioner already has an open case" warning, the directory and the
registration rules; and the channel-specific fields of a registration, refused field by
field with nothing stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from xinfang_intake.main import create_app
from xinfang_intake.petitions.models import petitioners, petitions, users
from xinfang_shared.auth.models import Role
from xinfang_shared.events import CaseRouted, new_event

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_informants import INFORMANT, accusation
from tests.integration.test_intake import VALID_ID, counts, intake_settings, petition
from tests.integration.test_scoping import bearer
from tests.kafka_helpers import produce


def routed(reg: dict[str, Any], to_code: str, to_name: str, supervising: str) -> bytes:
    now = datetime.now(UTC)
    data = CaseRouted(
        case_id=reg["case_id"],
        case_number=reg["case_number"],
        hop=1,
        action="转送",
        from_unit_code=supervising,
        from_unit_name="江临市信访局",
        to_unit_code=to_code,
        to_unit_name=to_name,
        reason="test",
        routed_at=now,
        received_at=now,
        supervising_code=supervising,
    )
    return new_event(data=data, source="/test/routing", time=now).to_bytes()


async def test_a_record_is_read_in_scope_and_a_sealed_informant_stays_sealed(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        city_admin = bearer(settings, now, "jl-admin", Role.ADMIN, "339900")
        zrzy = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        rsj = bearer(settings, now, "qh-rsj", Role.HANDLER, "339922-rsj")
        qinghe = bearer(settings, now, "qh-duban", Role.SUPERVISOR, "339922")
        linjiang = bearer(settings, now, "lj-duban", Role.SUPERVISOR, "339902")
        # received by the city, sent to 清河县自然资源局, the city supervising
        doc = petition(receiving_office_code="339900", channel="letter", letter_date=None)
        reg = (await client.post("/api/v1/petitions", json=doc)).json()
        case_id = reg["case_id"]
        before = await client.get(f"/api/v1/records/{case_id}", headers=zrzy)
        assert before.status_code == 404  # not yet routed to them
        raw = routed(reg, "339922-zrzy", "清河县自然资源局", "339900-xfj")
        await produce(broker, "case.routed", raw, key=case_id.encode())

        async def handled() -> dict[str, Any] | None:
            r = await client.get(f"/api/v1/records/{case_id}", headers=city_admin)
            body: dict[str, Any] = r.json()
            return body if body.get("handling_unit_code") == "339922-zrzy" else None

        record = await eventually(handled, timeout=30, what="the routing noted")
        assert record["supervising_code"] == "339900-xfj"
        assert record["handling_unit_name"] == "清河县自然资源局"
        assert record["receiving_office_name"] == "江临市信访局"
        assert record["matter_location_name"] and record["channel_label"] == "来信"
        assert record["petitioners"] == [
            {
                "name": "王建国",
                "id_number_masked": "110105********002X",
                "phone": "13905710001",
                "address": None,
                "representative": False,
            }
        ]
        assert VALID_ID not in str(record)
        # the handler of the handling department and the county reading it; others 404
        mine = await client.get(f"/api/v1/records/{case_id}", headers=zrzy)
        assert mine.status_code == 200 and mine.json()["content"] == doc["content"]
        assert (await client.get(f"/api/v1/records/{case_id}", headers=qinghe)).status_code == 200
        other = await client.get(f"/api/v1/records/{case_id}", headers=linjiang)
        missing = await client.get(f"/api/v1/records/{uuid.uuid4()}", headers=linjiang)
        assert other.status_code == missing.status_code == 404
        assert other.json() == missing.json()
        assert (await client.get(f"/api/v1/records/{case_id}", headers=rsj)).status_code == 404

        # 检举控告: the record reads, its informant does not (nor the query code)
        sealed = (await client.post("/api/v1/petitions", json=accusation())).json()
        assert sealed["informant_sealed"] is True
        shown = await client.get(f"/api/v1/records/{sealed['case_id']}", headers=qinghe)
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["informant_sealed"] is True and body["petitioners"] == []
        assert body["query_code"] is None
        for secret in INFORMANT.values():
            assert secret not in shown.text
        # nor is the informant found by name or phone
        for q in (INFORMANT["name"], INFORMANT["phone"], "检举人"):
            hits = await client.get("/api/v1/records", params={"q": q}, headers=qinghe)
            assert sealed["case_id"] not in hits.json()["case_ids"]


async def test_search_open_cases_directory_and_rules(broker: str, databases: Databases) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        qinghe = bearer(settings, now, "qh-duban", Role.SUPERVISOR, "339922")
        linjiang = bearer(settings, now, "lj-duban", Role.SUPERVISOR, "339902")
        registrar = bearer(settings, now, "qh-desk", Role.REGISTRAR, "339922")
        handler = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        a = (await client.post("/api/v1/petitions", json=petition(title="鱼塘承包纠纷"))).json()
        other_person = {"name": "王建业", "phone": "13905710099"}
        b = (
            await client.post(
                "/api/v1/petitions",
                json=petition(petitioners=[other_person], content="村道路灯坏了半年无人维修。"),
            )
        ).json()
        lj = (
            await client.post("/api/v1/petitions", json=petition(receiving_office_code="339902"))
        ).json()

        async def ids(q: str, headers: dict[str, str] = qinghe, **kw: Any) -> Any:
            r = await client.get("/api/v1/records", params={"q": q, **kw}, headers=headers)
            assert r.status_code == 200, r.text
            return r.json()

        assert set((await ids("王建国"))["case_ids"]) == {a["case_id"]}  # 临江区's is out of scope
        assert set((await ids("王建"))["case_ids"]) == {a["case_id"], b["case_id"]}  # prefix
        assert (await ids("13905710099"))["case_ids"] == [b["case_id"]]
        assert (await ids("139 0571 0099"))["case_ids"] == [b["case_id"]]  # read as a phone
        assert (await ids("路灯坏了"))["case_ids"] == [b["case_id"]]
        assert (await ids("鱼塘承包"))["case_ids"] == [a["case_id"]]
        assert (await ids(a["case_number"]))["case_ids"] == [a["case_id"]]
        assert (await ids("王建国", linjiang))["case_ids"] == [lj["case_id"]]
        assert (await ids("100%"))["case_ids"] == []  # a LIKE wildcard is a character
        capped = await ids("王建", limit=1)
        assert len(capped["case_ids"]) == 1 and capped["truncated"] is True
        assert (await ids("王建", handler))["case_ids"] == []  # nothing routed to them
        short = await client.get("/api/v1/records", params={"q": "王"}, headers=qinghe)
        assert short.status_code == 422

        # the registrar's warning: same ID or phone, open, in scope
        found = await client.get(
            "/api/v1/records/open-for", params={"id_number": VALID_ID}, headers=registrar
        )
        assert found.status_code == 200
        [hit] = found.json()
        assert hit["case_id"] == a["case_id"] and hit["status_label"] == "已登记"
        assert hit["excerpt"] == petition()["content"][:60]
        by_phone = await client.get(
            "/api/v1/records/open-for", params={"phone": "13905710099"}, headers=registrar
        )
        assert [c["case_id"] for c in by_phone.json()] == [b["case_id"]]
        async with app.state.runtime.sessions() as s, s.begin():
            await s.execute(
                petitions.update()
                .where(petitions.c.case_id == a["case_id"])
                .values(status="closed")
            )
        after = await client.get(
            "/api/v1/records/open-for", params={"id_number": VALID_ID}, headers=registrar
        )
        assert after.json() == []  # closed: no warning
        bad = await client.get(
            "/api/v1/records/open-for",
            params={"id_number": "110105194912310021"},
            headers=registrar,
        )
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["field"] == "id_number"
        assert bad.json()["errors"][0]["message"]  # in Chinese, for the registrar
        none = await client.get("/api/v1/records/open-for", headers=registrar)
        assert none.status_code == 422

        # the directory: active accounts of the caller's subtree, no hashes
        async with app.state.runtime.sessions() as s, s.begin():
            for username, role, org_code, active in [
                ("qh.leader", "leader", "339922", True),
                ("qh.old", "leader", "339922", False),
                ("lt.leader", "leader", "339922102", True),
                ("lj.leader", "leader", "339902", True),
                ("qh.zrzy", "handler", "339922-zrzy", True),
            ]:
                await s.execute(
                    insert(users).values(
                        username=username,
                        display_name=username.upper(),
                        password_hash="x" * 60,
                        role=role,
                        org_code=org_code,
                        active=active,
                        created_at=now,
                    )
                )
        leaders = await client.get("/api/v1/directory", params={"role": "leader"}, headers=qinghe)
        assert leaders.status_code == 200
        assert [(e["username"], e["org_name"], e["role_label"]) for e in leaders.json()] == [
            ("qh.leader", "清河县", "包案领导"),
            ("lt.leader", "柳塘乡", "包案领导"),
        ]
        assert "password" not in leaders.text and "x" * 60 not in leaders.text
        everyone = await client.get("/api/v1/directory", headers=qinghe)
        assert "qh.zrzy" in {e["username"] for e in everyone.json()}
        assert (await client.get("/api/v1/directory", headers=registrar)).status_code == 403

        rules = await client.get("/api/v1/registration/rules", headers=registrar)
        assert rules.status_code == 200
        body = rules.json()
        assert body["collective_threshold"] == settings.collective_threshold
        assert body["max_representatives"] == 5
        channels = {c["code"]: c for c in body["channels"]}
        assert channels["phone"]["fields"][0]["field"] == "caller_phone"
        # a withheld number cannot be asked for: shown, not required (nor by the API)
        assert channels["phone"]["fields"][0]["required"] is False
        assert channels["letter"]["label"] == "来信"


async def test_channel_fields_are_checked_field_by_field_and_bad_input_stores_nothing(
    broker: str, databases: Databases
) -> None:
    settings = await intake_settings(databases, broker)
    app = create_app(settings)
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        today = now.date()
        qinghe = bearer(settings, now, "qh-duban", Role.SUPERVISOR, "339922")

        async def refused(doc: dict[str, Any]) -> list[tuple[str, str]]:
            before = await counts(app)
            r = await client.post("/api/v1/petitions", json=doc)
            assert r.status_code == 422, r.text
            assert await counts(app) == before  # nothing stored
            errors = r.json()["errors"]
            assert all(e["message"] and e["message_en"] for e in errors)
            return [(e["field"], e["code"]) for e in errors]

        later = (today + timedelta(days=2)).isoformat()
        assert ("letter_date", "letter_date_after_received") in await refused(
            petition(channel="letter", letter_date=later)
        )
        assert ("letter_date", "letter_date_not_letter") in await refused(
            petition(channel="visit", letter_date=today.isoformat())
        )
        # a call whose number was withheld, or a client that never sent one, is registered
        r = await client.post("/api/v1/petitions", json=petition(channel="phone"))
        assert r.status_code == 201, r.text
        assert [f for f, _ in await refused(petition(channel="phone", caller_phone="12345"))] == [
            "caller_phone"
        ]
        assert ("caller_phone", "caller_phone_not_phone") in await refused(
            petition(channel="letter", caller_phone="13905710001")
        )
        assert [f for f, _ in await refused(petition(repeat_of="not-a-number"))] == ["repeat_of"]
        people = [{"name": f"村民{i}", "representative": True} for i in range(6)]
        assert ("petitioners.5.representative", "representatives_too_many") in await refused(
            petition(channel="visit", petitioners=people, persons=30)
        )
        assert ("petitioners.0.representative", "representative_not_visit") in await refused(
            petition(channel="letter", petitioners=people[:1])
        )
        assert ("petitioners.0.representative", "representative_single") in await refused(
            petition(channel="visit", petitioners=people[:1])
        )

        # the fields accepted and read back
        visit = petition(channel="visit", petitioners=people[:5], persons=30, repeat_of=None)
        v = (await client.post("/api/v1/petitions", json=visit)).json()
        letter = petition(channel="letter", letter_date=(today - timedelta(days=3)).isoformat())
        lt = (await client.post("/api/v1/petitions", json=letter)).json()
        call = petition(channel="phone", caller_phone="0571-87654321", repeat_of=lt["case_number"])
        ph = (await client.post("/api/v1/petitions", json=call)).json()
        rv = (await client.get(f"/api/v1/records/{v['case_id']}", headers=qinghe)).json()
        assert [p["representative"] for p in rv["petitioners"]] == [True] * 5
        assert rv["collective"] is True
        rl = (await client.get(f"/api/v1/records/{lt['case_id']}", headers=qinghe)).json()
        assert rl["letter_date"] == (today - timedelta(days=3)).isoformat()
        rp = (await client.get(f"/api/v1/records/{ph['case_id']}", headers=qinghe)).json()
        assert rp["caller_phone"] == "0571-87654321" and rp["repeat_of"] == lt["case_number"]
        hits = await client.get("/api/v1/records", params={"q": "0571-87654321"}, headers=qinghe)
        assert hits.json()["case_ids"] == [ph["case_id"]]
        # a phoned accusation: the caller's number is sealed with the informant
        sealed = accusation(channel="phone", caller_phone="13957100999")
        sc = (await client.post("/api/v1/petitions", json=sealed)).json()
        async with app.state.runtime.sessions() as s:
            row = (
                await s.execute(select(petitions).where(petitions.c.case_id == sc["case_id"]))
            ).one()
            names = (
                await s.execute(
                    select(petitioners.c.name).where(petitioners.c.case_id == sc["case_id"])
                )
            ).scalars()
            assert row.caller_phone is None and list(names) == ["检举人（保密）"]
