"""The routing service on the real broker and database: jurisdiction, repeats, corrections,
and the org tree loaded by the admin API and by the CLI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from xinfang_intake.petitions.validation import id_hash, mask_id_number
from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app
from xinfang_shared.auth.models import Role
from xinfang_shared.events import PetitionerInfo, PetitionReceived, new_event
from xinfang_shared.org import default_tree_text

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_scoping import bearer
from tests.kafka_helpers import TopicReader, produce

SALT = "test-salt-123"


def received(
    content: str, *, office: str = "339922", person: dict[str, str] | None = None, **kw: Any
) -> tuple[str, bytes]:
    case_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    petitioners = []
    if person:
        petitioners = [
            PetitionerInfo(
                name=person["name"],
                phone=person.get("phone"),
                id_hash=id_hash(person["id"], SALT) if "id" in person else None,
                id_number_masked=mask_id_number(person["id"]) if "id" in person else None,
            )
        ]
    data = PetitionReceived(
        case_id=case_id,
        case_number=f"{office}-2026-{uuid.uuid4().int % 10**6:06d}",
        channel=kw.pop("channel", "letter"),
        received_at=now,
        receiving_office_code=office,
        receiving_office_name="x",
        anonymous=not person,
        petitioners=petitioners,
        persons=1,
        content=content,
        **kw,
    )
    return case_id, new_event(data=data, source="/test/intake", time=now).to_bytes()


async def routing(
    databases: Databases, broker: str, url: str | None = None
) -> tuple[Any, RoutingSettings]:
    settings = RoutingSettings(
        XF_ROUTING_DATABASE_URL=url or await databases.new("routing"),
        XF_ID_HASH_SALT=SALT,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
    )
    return create_app(settings), settings


async def case(client: httpx.AsyncClient, case_id: str) -> dict[str, Any] | None:
    r = await client.get(f"/api/v1/cases/{case_id}")
    return r.json() if r.status_code == 200 else None


async def test_jurisdiction_chain_skip_level_and_repeats(broker: str, databases: Databases) -> None:
    app, _ = await routing(databases, broker)
    villager = {"name": "周桂兰", "id": "33992219650704002X", "phone": "13957100123"}
    first_id, first = received(
        "柳塘乡荷花塘村的承包地去年被征收修路，每亩青苗补偿费至今没有兑现，村里说钱还没拨下来。",
        office="339900",
        person=villager,
        channel="visit",
        matter_address="清河县柳塘乡荷花塘村",
    )
    again_id, again = received(
        "去年荷花塘村修路征收了我家承包地，青苗补偿费到现在一分没拿到，请求市里督促落实补偿。",
        office="339900",
        person=villager,
    )
    other_id, other = received(
        "我家孩子在清河镇中心小学读书，学校每学期额外收取补课费和资料费，请求查处。",
        office="339922",
        person=villager,
    )
    anon_id, anon = received(
        "柳塘乡荷花塘村的承包地去年被征收修路，每亩青苗补偿费至今没有兑现，村里说钱还没拨下来。",
        office="339900",
    )
    topics = ("case.routed", "case.linked", "alert.skip_level")
    async with TopicReader(broker, *topics) as topic, running(app) as client:
        for cid, raw in [(first_id, first), (again_id, again), (other_id, other), (anon_id, anon)]:
            await produce(broker, "petition.received", raw, key=cid.encode())
            await eventually(lambda cid=cid: case(client, cid), timeout=30, what=f"case {cid}")

        c1 = await case(client, first_id)
        assert c1 is not None
        assert c1["holder_code"] == "339922-zrzy" and c1["status"] == "routed"
        assert [(h["action"], h["to_unit_code"]) for h in c1["hops"]] == [
            ("交办", "339922-xfj"),
            ("转送", "339922-zrzy"),
        ]
        assert c1["skip_level"] is False  # city → county: one level, not a skip-level visit
        assert c1["repeat_count"] == 2  # arrivals: the original and one repeat

        c2 = await case(client, again_id)
        assert c2 is not None and c2["status"] == "linked" and c2["linked_to"] == first_id
        [linked] = await eventually(lambda: topic.events(type_="case.linked", subject=again_id))
        assert linked["data"]["repeat_count"] == 2 and linked["data"]["match"] == "重复信访"

        # same petitioner, another matter: a case of its own; anonymous twin: never linked
        assert (await case(client, other_id))["status"] == "routed"  # type: ignore[index]
        assert (await case(client, anon_id))["status"] == "routed"  # type: ignore[index]
        assert not topic.events(type_="case.linked", subject=other_id)
        assert not topic.events(type_="case.linked", subject=anon_id)

        routed = [e["data"] for e in topic.events(type_="case.routed", subject=first_id)]
        assert [r["final"] for r in routed] == [False, True]
        assert routed[-1]["supervising_code"] == "339900-xfj"  # the city keeps supervising
        assert routed[0]["transfer_due"] and routed[-1]["category"] == "land_requisition"

        skip_id, skip = received(
            # (a village matter, not an accusation: one would be sealed and go to the county)
            "石门村的村务账目好几年没有公开，村民会议也一直不开，村民想知道修路的钱是怎么花的。",
            office="339900",
            channel="visit",
            matter_location_code="339922103201",
        )
        await produce(broker, "petition.received", skip, key=skip_id.encode())
        [alert] = await eventually(
            lambda: topic.events(type_="alert.skip_level", subject=skip_id), timeout=30
        )
        assert alert["data"]["levels_skipped"] == 2


async def test_objection_within_five_working_days_and_refused_after(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    cid, raw = received("清河县清河镇东岗村村民反映，邻村养猪场粪水直排河道，臭气熏天。")
    cid2, raw2 = received("清河镇西岗村附近采石场粉尘污染严重，庄稼上落满灰。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        await produce(broker, "petition.received", raw2, key=cid2.encode())
        c = await eventually(lambda: case(client, cid), timeout=30)
        await eventually(lambda: case(client, cid2), timeout=30)
        assert c["holder_code"] == "339922-sthj"  # type: ignore[index]

        wrong = await client.post(
            f"/api/v1/cases/{cid}/objection",
            json={"department_code": "339922-gaj", "reason": "不归我们", "actor": "张科长"},
        )
        assert (
            wrong.status_code == 409
            and wrong.json()["message"] == "该件不在本单位办理，不能提出异议"
        )

        ok = await client.post(
            f"/api/v1/cases/{cid}/objection",
            json={
                "department_code": "339922-sthj",
                "reason": "养殖污染属农业农村部门监管",
                "actor": "李科长",
            },
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["action"] == "退回" and ok.json()["to_unit_code"] == "339922-xfj"
        again = await case(client, cid)
        assert again["holder_code"] == "339922-xfj" and again["hops"][-1]["actor"] == "李科长"  # type: ignore[index]

        # a supervisor reassigns it, with the audit trail
        re = await client.post(
            f"/api/v1/cases/{cid}/reassign",
            json={
                "to_department_code": "339922-nyncj",
                "reason": "畜禽养殖污染由农业农村局牵头",
                "actor": "王主任",
            },
        )
        assert re.status_code == 200 and re.json()["action"] == "改派"
        hops = (await client.get(f"/api/v1/cases/{cid}/hops")).json()
        assert [h["action"] for h in hops] == ["转送", "退回", "改派"]
        assert (
            await client.post(
                f"/api/v1/cases/{cid}/reassign",
                json={"to_department_code": "339922-nope", "reason": "xx", "actor": "王"},
            )
        ).status_code == 422

        # ten days later the window (5 working days) has closed
        await app.state.runtime.clock.set_offset(timedelta(days=10))
        late = await client.post(
            f"/api/v1/cases/{cid2}/objection",
            json={"department_code": "339922-sthj", "reason": "不归我们", "actor": "李科长"},
        )
        assert late.status_code == 409
        assert "届满" in late.json()["message"] and late.json()["window_closed_on"]
        assert (
            await client.post(
                "/api/v1/cases/nope/objection",
                json={"department_code": "x-y", "reason": "xx", "actor": "a"},
            )
        ).status_code == 404


async def test_org_tree_admin_api_and_cli_validate_and_keep_routed_cases(
    broker: str, databases: Databases, tmp_path: Path
) -> None:
    url = await databases.new("routing")
    app, _ = await routing(databases, broker, url)
    cid, raw = received("清河县柳塘乡柳树湾村的山林被人砍伐，林权证上写得清清楚楚是我家的。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        before = await eventually(lambda: case(client, cid), timeout=30)
        assert before["holder_code"] == "339922-lyj"  # type: ignore[index]
        v0 = (await client.get("/api/v1/admin/org-tree")).json()
        assert v0["loaded_by"] == "startup"

        rt = app.state.runtime
        admin = bearer(rt.settings, rt.clock.now(), "city.admin", Role.ADMIN, "339900")
        yaml_as_admin = {"Content-Type": "application/yaml", **admin}
        bad = default_tree_text().replace('parent: "339922"', 'parent: "339977"', 1)
        r = await client.put("/api/v1/admin/org-tree", content=bad, headers=yaml_as_admin)
        assert r.status_code == 422
        assert any("339977" in p["message"] for p in r.json()["problems"])
        assert (await client.get("/api/v1/admin/org-tree")).json() == v0  # nothing changed

        # a new department: 清河县 gets a 退役军人事务局
        extra = '  - code: "339922-tyjr"\n    unit: "339922"\n    name: 清河县退役军人事务局\n    kind: department\n    competences: [veterans]\n'
        new = default_tree_text().replace("version: demo-2026.1", "version: demo-2026.2") + extra
        r = await client.put("/api/v1/admin/org-tree", content=new, headers=yaml_as_admin)
        assert r.status_code == 200 and r.json()["version"] == "demo-2026.2"
        assert r.json()["departments"] == v0["departments"] + 1
        # the case routed under the old tree keeps its route
        assert (await case(client, cid))["hops"] == before["hops"]  # type: ignore[index]

    # the CLI stores a version too; an invalid file is refused and changes nothing
    env = {**settings_env(url)}
    bad_file = tmp_path / "bad.yaml"
    bad_file.write_text("units: []\n", encoding="utf-8")
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "xinfang_routing", "load-org", str(bad_file)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "没有任何单位" in out.stderr
    good_file = tmp_path / "good.yaml"
    good_file.write_text(
        default_tree_text().replace("version: demo-2026.1", "version: demo-2026.3"),
        encoding="utf-8",
    )
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "xinfang_routing", "load-org", str(good_file)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    app2, _ = await routing(databases, broker, url)
    async with running(app2) as client:
        assert (await client.get("/api/v1/admin/org-tree")).json()["version"] == "demo-2026.3"


def settings_env(url: str) -> dict[str, str]:
    import os

    return {**os.environ, "XF_ROUTING_DATABASE_URL": url}


async def test_a_repeat_visit_that_skips_levels_is_flagged_and_its_holder_is_told(
    broker: str, databases: Databases
) -> None:
    """A villager wrote to the county about the village's electoral roll; later, in other words,
    she goes to the city: the visit joins her case (重复信访) and is still 越级 (city → county →
    township: two levels), and the township body holding the case is told, as for a first
    skip-level visit."""
    from xinfang_notify.config import NotifySettings
    from xinfang_notify.main import create_app as notify_app

    app, _ = await routing(databases, broker)
    notify = notify_app(
        NotifySettings(
            XF_NOTIFY_DATABASE_URL=await databases.new("notify"),
            kafka_bootstrap_servers=broker,
            kafka_session_timeout_s=2,
            clock_mode="manual",
        )
    )
    villager = {"name": "陈秀英", "id": "339922196809150043", "phone": "13957100456"}
    first_id, first = received(
        "石门村今年换届选举，村委会没有按时公布选民名单，我家三口人都不在名单上，"
        "去问了几次都说等通知，请求督促村里依法把选民名单公布出来。",
        office="339922",
        person=villager,
        matter_location_code="339922103201",
    )
    visit_id, visit = received(
        "来访人陈秀英，说她上次写信反映村里换届的选民名单，她家三口人还是没列进去，"
        "眼看就要投票了，她要求市里督促村里把名单改过来。",
        office="339900",
        person=villager,
        channel="visit",
    )
    async with (
        TopicReader(broker, "case.linked", "alert.skip_level") as topic,
        running(app) as client,
        running(notify) as notify_client,
    ):
        await produce(broker, "petition.received", first, key=first_id.encode())
        c1 = await eventually(lambda: case(client, first_id), timeout=30, what="first case")
        holder = c1["holder_code"]
        assert c1["skip_level"] is False and holder.startswith("339922103")  # the township

        await produce(broker, "petition.received", visit, key=visit_id.encode())
        c2 = await eventually(lambda: case(client, visit_id), timeout=30, what="the visit")
        assert c2["status"] == "linked" and c2["linked_to"] == first_id
        assert c2["skip_level"] is True and c2["decision"]["levels_skipped"] == 2

        [alert] = await eventually(
            lambda: topic.events(type_="alert.skip_level", subject=visit_id), timeout=30
        )
        assert alert["data"]["responsible_code"] == holder
        assert alert["data"]["levels_skipped"] == 2
        assert topic.events(type_="case.linked", subject=visit_id)

        async def told() -> set[tuple[str, str]] | None:
            r = await notify_client.get("/api/v1/notifications", params={"case_id": visit_id})
            rows = {(n["source_event_type"], n["recipient"]) for n in r.json()}
            return rows if ("alert.skip_level", holder) in rows else None

        rows = await eventually(told, timeout=30, what="the holder told of the 越级访")
        assert ("alert.skip_level", "339900") in rows  # and the receiving office


async def test_the_repeat_index_is_rebuilt_from_the_database_at_start(
    broker: str, databases: Databases
) -> None:
    """The matter profiles are stored with the fingerprints: a routing worker started after the
    original was routed still links a reworded repeat to it, and still keeps another matter of
    the same petitioner apart."""
    url = await databases.new("routing")
    person = {"name": "黄德明", "id": "339922197203110018", "phone": "13957100789"}
    first_id, first = received(
        "我在县城的建筑工地跟着包工头干了七个月钢筋活，工钱两万八一直拖着不给，包工头现在电话也不接，"
        "请劳动监察部门帮我把工钱要回来。",
        person=person,
    )
    again_id, again = received(
        "来电人黄德明，说他上次反映的县城工地钢筋工钱两万八的事，包工头还是躲着不见人，"
        "劳动监察说在查，他家里等钱用。",
        person=person,
    )
    other_id, other = received(
        "黄德明反映，他母亲今年七十五岁，高龄补贴从今年起停发了，村里说名单上没有她。",
        person=person,
    )
    app, _ = await routing(databases, broker, url)
    async with running(app) as client:
        await produce(broker, "petition.received", first, key=first_id.encode())
        await eventually(lambda: case(client, first_id), timeout=30, what="the original")
    app, _ = await routing(databases, broker, url)  # a new worker on the same database
    async with running(app) as client:
        for cid, raw in ((again_id, again), (other_id, other)):
            await produce(broker, "petition.received", raw, key=cid.encode())
            await eventually(lambda cid=cid: case(client, cid), timeout=30, what=cid)
        linked = await case(client, again_id)
        assert linked and linked["status"] == "linked" and linked["linked_to"] == first_id
        assert linked["decision"]["matched_by"] == "profile"  # the stored profile, not MinHash
        apart = await case(client, other_id)
        assert apart and apart["status"] == "routed"


async def test_an_item_the_classifier_is_unsure_of_waits_for_triage_with_its_suggestions(
    broker: str, databases: Databases
) -> None:
    """The classifier abstains (a stand-in with a fixed answer): the item goes to a petition
    office for manual triage, and its top 3 suggestions are stored with the routing decision,
    read back through GET /cases/{id} and sent on the final case.routed hop."""
    from tests.unit.fixed_model import unsure

    app, _ = await routing(databases, broker)
    cid, raw = received(
        "有件事情想当面跟领导说说。", office="339900", matter_location_code="339922103201"
    )
    ranked = (
        ("land_requisition", 0.3),
        ("village_affairs", 0.25),
        ("forestry", 0.2),
        ("funeral", 0.1),
    )
    async with TopicReader(broker, "case.routed") as topic, running(app) as client:
        app.state.routing.ctx.model = unsure(*ranked)
        await produce(broker, "petition.received", raw, key=cid.encode())
        c = await eventually(lambda: case(client, cid), timeout=30, what="the case")
        assert c["category"] is None and c["category_source"] == "none"
        assert c["holder_code"] == "339922-xfj"  # the county's office: a county matter is likely
        shown = [(s["category"], s["name"], s["probability"]) for s in c["decision"]["suggestions"]]
        assert shown == [
            ("land_requisition", "土地征收补偿", 0.3),
            ("village_affairs", "村务管理", 0.25),
            ("forestry", "林业林权", 0.2),
        ]
        hops = await eventually(lambda: topic.events(type_="case.routed", subject=cid))
        final = [h["data"] for h in hops if h["data"]["final"]]
        assert final and final[0]["needs_manual_triage"]
        assert [s["category"] for s in final[0]["suggestions"]] == [c for c, *_ in shown]
        schema = (await client.get("/openapi.json")).json()["components"]["schemas"]
        assert "suggestions" in schema["RoutingDecisionRead"]["properties"]
