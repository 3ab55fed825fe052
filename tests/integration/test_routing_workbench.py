"""Routing for the staff workbench (issue #16): the unit cascade, a unit's departments and the
categories to choose from, the supervisor's triage queue (an item leaves it once routed by
hand), the org tree's YAML for its administrator, and the registrar's own link (repeat_of)."""

from __future__ import annotations

from typing import Any

from xinfang_shared.auth.models import Role
from xinfang_shared.org import default_tree_text

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_routing import case, received, routing
from tests.integration.test_scoping import bearer
from tests.kafka_helpers import TopicReader, produce


async def test_units_departments_categories_and_the_tree_source(
    broker: str, databases: Databases
) -> None:
    app, settings = await routing(databases, broker)
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        desk = bearer(settings, now, "qh-desk", Role.REGISTRAR, "339922")
        admin = bearer(settings, now, "jl-admin", Role.ADMIN, "339900")
        county_admin = bearer(settings, now, "qh-admin", Role.ADMIN, "339922")

        top = (await client.get("/api/v1/org/units", headers=desk)).json()
        assert top[0]["code"] == "339900" and top[0]["level_label"] == "市"
        assert "339922" in {u["code"] for u in top[1:]}
        towns = (await client.get("/api/v1/org/units?parent=339922", headers=desk)).json()
        liutang = next(u for u in towns if u["code"] == "339922102")
        assert liutang["name"] == "柳塘乡" and liutang["has_children"] is True
        villages = (await client.get("/api/v1/org/units?parent=339922102", headers=desk)).json()
        assert villages and all(v["level"] == "village" and not v["has_children"] for v in villages)
        missing = await client.get("/api/v1/org/units?parent=999999", headers=desk)
        assert missing.status_code == 404 and missing.json()["message"]

        depts = (await client.get("/api/v1/org/departments?unit=339922", headers=desk)).json()
        assert depts[0]["kind"] == "petition_office" and depts[0]["kind_label"] == "信访部门"
        assert "339922-zrzy" in {d["code"] for d in depts}

        cats = {c["code"]: c for c in (await client.get("/api/v1/categories", headers=desk)).json()}
        assert cats["land_requisition"]["name"] == "土地征收补偿"
        assert cats["cadre_report"]["confidential"] is True
        assert cats["cadre_report"]["kind"] == "检举控告"

        source = await client.get("/api/v1/admin/org-tree/source", headers=admin)
        assert source.status_code == 200
        assert source.headers["content-type"].startswith("text/yaml")
        assert source.headers["content-disposition"].startswith("attachment")
        assert source.text == default_tree_text()
        refused = await client.get("/api/v1/admin/org-tree/source", headers=county_admin)
        assert refused.status_code == 403
        assert (await client.get("/api/v1/admin/org-tree/source", headers=desk)).status_code == 403


async def test_the_triage_queue_empties_when_an_item_is_routed_by_hand(
    broker: str, databases: Databases
) -> None:
    from tests.unit.fixed_model import unsure

    app, settings = await routing(databases, broker)
    cid, raw = received(
        "有件事情想当面跟领导说说。", office="339900", matter_location_code="339922103201"
    )
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        qinghe = bearer(settings, now, "qh-duban", Role.SUPERVISOR, "339922")
        linjiang = bearer(settings, now, "lj-duban", Role.SUPERVISOR, "339902")
        handler = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        app.state.routing.ctx.model = unsure(("land_requisition", 0.4), ("forestry", 0.3))
        await produce(broker, "petition.received", raw, key=cid.encode())
        await eventually(lambda: case(client, cid), timeout=30, what="the case")

        queue = (await client.get("/api/v1/triage", headers=qinghe)).json()
        [item] = [i for i in queue if i["case_id"] == cid]
        assert item["holder_code"] == "339922-xfj" and item["holder_name"] == "清河县信访局"
        assert [(s["category"], s["category_name"]) for s in item["suggestions"]] == [
            ("land_requisition", "土地征收补偿"),
            ("forestry", "林业林权"),
        ]
        assert item["reason"]
        other = (await client.get("/api/v1/triage", headers=linjiang)).json()
        assert cid not in {i["case_id"] for i in other}
        assert (await client.get("/api/v1/triage", headers=handler)).status_code == 403

        done = await client.post(
            f"/api/v1/cases/{cid}/reassign",
            json={"to_department_code": "339922-zrzy", "reason": "征地补偿，交自然资源局"},
            headers=qinghe,
        )
        assert done.status_code == 200, done.text
        queue = (await client.get("/api/v1/triage", headers=qinghe)).json()
        assert cid not in {i["case_id"] for i in queue}


async def test_a_registrar_link_joins_the_open_case_or_is_routed_saying_why(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    first_id, first = received(
        "柳塘乡荷花塘村的承包地去年被征收修路，每亩青苗补偿费至今没有兑现。",
        office="339922",
        person={"name": "周桂兰", "phone": "13957100123"},
    )
    async with TopicReader(broker, "case.linked", "case.routed") as topic, running(app) as client:
        await produce(broker, "petition.received", first, key=first_id.encode())
        original: dict[str, Any] = await eventually(lambda: case(client, first_id), timeout=30)
        number = original["case_number"]
        # another person, another text: nothing links it but the registrar's word
        linked_id, linked = received(
            "家门口的路灯坏了很久了，希望尽快修好。",
            office="339922",
            person={"name": "李四", "phone": "13957100999"},
            repeat_of=number,
        )
        await produce(broker, "petition.received", linked, key=linked_id.encode())
        [event] = await eventually(
            lambda: topic.events(type_="case.linked", subject=linked_id), timeout=30
        )
        assert event["data"]["linked_case_id"] == first_id
        joined = await case(client, linked_id)
        assert joined is not None and joined["status"] == "linked"
        assert joined["decision"]["matched_by"] == "registrar"

        # named from 临江区: outside its office's subtree, routed as usual and saying so
        away_id, away = received(
            "家门口的路灯坏了很久了，希望尽快修好。",
            office="339902",
            person={"name": "王五", "phone": "13957100888"},
            repeat_of=number,
        )
        await produce(broker, "petition.received", away, key=away_id.encode())
        routed = await eventually(
            lambda: topic.events(type_="case.routed", subject=away_id), timeout=30
        )
        assert "照常分办" in routed[-1]["data"]["reason"]
        assert not topic.events(type_="case.linked", subject=away_id)

        # a closed case takes no link either
        closed_id, closed = received(
            "又一件事。路面塌陷需要修补。",
            office="339922",
            person={"name": "赵六"},
            repeat_of=number,
        )
        async with app.state.runtime.sessions() as s, s.begin():
            from sqlalchemy import update
            from xinfang_routing.models import cases

            await s.execute(
                update(cases).where(cases.c.case_id == first_id).values(status="closed")
            )
        await produce(broker, "petition.received", closed, key=closed_id.encode())
        routed = await eventually(
            lambda: topic.events(type_="case.routed", subject=closed_id), timeout=30
        )
        assert "已办结" in routed[-1]["data"]["reason"]
