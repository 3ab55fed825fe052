"""The worklist (issue #16): ``GET /api/v1/worklist``, the 待办/督办 list, scoped like the case
view (a handler its own unit's cases, a supervisor the cases handled or supervised in its
subtree), filtered, sorted and paged in SQL, each case with its next open deadline coloured.
Cases are opened by the routing consumer's own handler (``service.on_routed``), so the tests
need no broker; run on PostgreSQL too (XF_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from xinfang_shared.auth.models import Role
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import CaseRouted
from xinfang_shared.timeutil import local_date
from xinfang_supervision.cases import service
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app

from tests.apps import running
from tests.conftest import Databases, free_port
from tests.integration.test_scoping import bearer


async def supervision_app(databases: Databases) -> FastAPI:
    """Supervision on its own database, the manual clock, no broker (nothing to consume)."""
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=await databases.new("supervision"),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        clock_mode="manual",
        XF_SWEEP_INTERVAL_S=3600,
    )
    return create_app(settings)


async def open_case(
    app: FastAPI,
    *,
    to: str,
    supervising: str = "339922-xfj",
    place: tuple[str, str] | None = None,
    category: str = "land_compensation",
    days_ago: int = 0,
    number: str | None = None,
    manual: bool = False,
) -> str:
    """A case routed (``days_ago`` days back) to ``to``, as the case.routed consumer opens it."""
    sup = app.state.supervision
    now = sup.runtime.clock.now()
    at = now - timedelta(days=days_ago)
    cid = str(uuid.uuid4())
    routed = CaseRouted(
        case_id=cid,
        case_number=number or f"339922-2026-{uuid.uuid4().int % 10**6:06d}",
        hop=1,
        action="转送",
        from_unit_code=supervising,
        from_unit_name="清河县信访局",
        to_unit_code=to,
        to_unit_name=sup.context.tree.department(to).name
        if sup.context.tree.department(to)
        else to,
        reason="test",
        routed_at=at,
        received_at=at,
        needs_manual_triage=manual,
        supervising_code=supervising,
        category=category,
        category_name={"land_compensation": "征地补偿", "wages": "拖欠工资"}.get(category),
        place_code=place[0] if place else None,
        place_name=place[1] if place else None,
    )
    async with sup.runtime.sessions() as session, session.begin():
        uow = UnitOfWork(session)
        await service.on_routed(uow=uow, sc=sup.context, routed=routed, now=now)
        await uow.flush()
    return cid


def who(app: FastAPI, username: str, role: Role, org_code: str) -> dict[str, str]:
    rt = app.state.runtime
    return bearer(rt.settings, rt.clock.now(), username, role, org_code)


async def listed(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> dict[str, Any]:
    r = await client.get("/api/v1/worklist", params=params, headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def ids(page: dict[str, Any]) -> list[str]:
    return [i["case_id"] for i in page["items"]]


DONGGANG = ("339922101201", "东岗村")  # a village of 清河镇
QINGHE_TOWN = ("339922101", "清河镇")
LIUSHU = ("339922102201", "柳树湾村")  # a village of 柳塘乡


async def test_worklist_is_scoped_filtered_sorted_and_paged(databases: Databases) -> None:
    app = await supervision_app(databases)
    async with running(app) as client:
        old = await open_case(
            app, to="339922-zrzy", place=DONGGANG, days_ago=20, number="339922-2026-100001"
        )
        new = await open_case(
            app, to="339922-zrzy", place=QINGHE_TOWN, days_ago=0, number="339922-2026-100002"
        )
        wages = await open_case(
            app,
            to="339922-rsj",
            place=LIUSHU,
            category="wages",
            days_ago=10,
            number="339922-2026-200003",
        )
        elsewhere = await open_case(
            app, to="339902-zrzy", supervising="339902-xfj", number="339902-2026-000004"
        )
        today = local_date(app.state.runtime.clock.now())
        zrzy = who(app, "qh.zrzy", Role.HANDLER, "339922-zrzy")
        county = who(app, "qh.duban", Role.SUPERVISOR, "339922")
        linjiang = who(app, "lj.duban", Role.SUPERVISOR, "339902")

        # the handler sees its own bureau's two cases, the one due first (overdue) first
        mine = await listed(client, zrzy)
        assert (mine["total"], mine["page"], mine["size"]) == (2, 1, 20)
        assert ids(mine) == [old, new]
        first, second = mine["items"]
        assert first["place_code"] == "339922101201" and first["place_name"] == "东岗村"
        assert first["category_label"] == "征地补偿" and first["status_label"] == "已转送责任单位"
        case = (await client.get(f"/api/v1/cases/{old}", headers=zrzy)).json()
        due = date.fromisoformat(case["deadlines"][0]["due_date"])
        assert case["place_code"] == "339922101201"
        nd = first["next_deadline"]
        assert nd["kind"] == "acceptance_notice" and nd["due_date"] == due.isoformat()
        assert nd["days_left"] == (due - today).days < 0
        assert (nd["state"], nd["state_label"], nd["share_left"]) == ("late", "已超期", 0.0)
        fresh = second["next_deadline"]
        assert fresh["state"] == "ok" and fresh["share_left"] == 1.0 and fresh["days_left"] > 0

        # the county's supervisor sees the county's three, not 临江区's; 临江区 only its own
        assert set(ids(await listed(client, county))) == {old, new, wages}
        assert ids(await listed(client, linjiang)) == [elsewhere]

        # filters: place covers the places below it, category, prefix of the case number,
        # the ids intake's search found (only those in scope), overdue and due within N days
        assert set(ids(await listed(client, county, place="339922101"))) == {old, new}
        assert ids(await listed(client, county, place="339922101201")) == [old]
        assert ids(await listed(client, county, place="339922102")) == [wages]
        assert ids(await listed(client, county, category="wages")) == [wages]
        assert ids(await listed(client, county, case_number="339922-2026-1")) == [old, new]
        assert ids(await listed(client, county, case_number="339922-2026-2000")) == [wages]
        hits = ",".join([wages, elsewhere, str(uuid.uuid4())])
        assert ids(await listed(client, county, case_ids=hits)) == [wages]
        overdue = await listed(client, county, overdue="true")
        assert ids(overdue) == [old] and overdue["total"] == 1
        assert set(ids(await listed(client, county, overdue="false"))) == {new, wages}
        assert ids(await listed(client, county, due_within=0)) == [old]
        within = (date.fromisoformat(mine["items"][1]["next_deadline"]["due_date"]) - today).days
        assert set(ids(await listed(client, county, due_within=within))) == {old, new, wages}

        # sorts and pages
        assert ids(await listed(client, county, sort="-due")) == [new, wages, old]
        assert ids(await listed(client, county, sort="received")) == [old, wages, new]
        assert ids(await listed(client, county, sort="-case_number")) == [wages, new, old]
        page2 = await listed(client, county, sort="case_number", size=1, page=2)
        assert (page2["total"], page2["page"], page2["size"], ids(page2)) == (3, 2, 1, [new])
        assert (await listed(client, county, page=9))["items"] == []

        # status: accepted after the handler accepts; a declined case leaves the open list
        assert (
            await client.post(f"/api/v1/cases/{new}/actions/accept", json={}, headers=zrzy)
        ).status_code == 200
        accepted = await listed(client, county, status="accepted")
        assert ids(accepted) == [new]
        assert accepted["items"][0]["next_deadline"]["kind"] == "handling"
        declined = await client.post(
            f"/api/v1/cases/{old}/actions/decline", json={"reason": "不属于信访事项"}, headers=zrzy
        )
        assert declined.status_code == 200
        assert ids(await listed(client, zrzy)) == [new]
        assert ids(await listed(client, zrzy, open="false")) == [old]
        assert ids(await listed(client, zrzy, status="not_accepted")) == [old]
        both = await listed(client, county, status=["accepted", "routed"])
        assert set(ids(both)) == {new, wages}


async def test_mine_lists_the_cases_whose_leader_is_the_caller(databases: Databases) -> None:
    app = await supervision_app(databases)
    async with running(app) as client:
        a = await open_case(app, to="339922-zrzy")
        b = await open_case(app, to="339922-zrzy")
        county = who(app, "qh.duban", Role.SUPERVISOR, "339922")
        named = await client.post(
            f"/api/v1/cases/{a}/leader",
            json={"leader": "王副县长", "leader_username": "qh.wang"},
            headers=county,
        )
        assert named.status_code == 200, named.text
        assert (named.json()["leader"], named.json()["leader_username"]) == ("王副县长", "qh.wang")
        bad = await client.post(
            f"/api/v1/cases/{b}/leader",
            json={"leader": "李", "leader_username": "Not A User!"},
            headers=county,
        )
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == ["leader_username"]
        assert "用户名" in bad.json()["errors"][0]["message"]
        leader = who(app, "qh.wang", Role.LEADER, "339922")
        other = who(app, "qh.li", Role.LEADER, "339922")
        assert ids(await listed(client, leader, mine="true")) == [a]
        assert ids(await listed(client, other, mine="true")) == []
        assert set(ids(await listed(client, other))) == {a, b}
        assert (await listed(client, leader, mine="true"))["items"][0][
            "leader_username"
        ] == "qh.wang"


async def test_bad_worklist_parameters_are_422_with_the_field(databases: Databases) -> None:
    app = await supervision_app(databases)
    async with running(app) as client:
        county = who(app, "qh.duban", Role.SUPERVISOR, "339922")
        too_many = ",".join(str(uuid.uuid4()) for _ in range(201))
        bad: list[tuple[dict[str, Any], str]] = [
            ({"size": 0}, "size"),
            ({"size": 101}, "size"),
            ({"page": 0}, "page"),
            ({"due_within": -1}, "due_within"),
            ({"sort": "priority"}, "sort"),
            ({"status": "nonsense"}, "status.0"),
            ({"case_ids": "ok,../etc"}, "case_ids"),
            ({"case_ids": too_many}, "case_ids"),
        ]
        for params, field in bad:
            r = await client.get("/api/v1/worklist", params=params, headers=county)
            assert r.status_code == 422, (params, r.text)
            assert [e["field"] for e in r.json()["errors"]] == [field], r.json()
            assert all(e["message"] and e["message_en"] for e in r.json()["errors"])
        assert (await client.get("/api/v1/worklist")).status_code == 200  # service token
        anonymous = await client.get("/api/v1/worklist", headers={"Authorization": ""})
        assert anonymous.status_code == 401
        # an unknown place matches nothing (not everything)
        await open_case(app, to="339922-zrzy", place=DONGGANG)
        assert (await listed(client, county, place="999999"))["total"] == 0
