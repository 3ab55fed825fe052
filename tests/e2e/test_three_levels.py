"""Three levels on one broker (issue #7): 江临市 (city), 清河县 (county) and 柳塘乡 (township),
each its own four service processes, databases and accounts, as `make run LEVELS=3` starts them.

A petition registered at the township is routed to a county department; the manual clock runs
past its deadline; the county supervises (督办), then it escalates to the city. Each level's live
stream and case list show what that level may see and nothing else, and a user of one township
gets 404 on the other township's case.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import Principal

from deploy.run import SERVICES, THREE_LEVELS, Levels, LevelSpec, demo_users, start_levels
from tests.conftest import Databases, eventually, free_port
from tests.e2e.stacks import sse_frames

pytestmark = pytest.mark.e2e

LAND = {
    "channel": "visit",
    "petitioners": [{"name": "赵四", "phone": "13905710099", "address": "清河县柳塘乡"}],
    "persons": 1,
    "matter_address": "清河县柳塘乡",
    "category": "土地征收补偿",
    "title": "承包地被征收后补偿款未到位",
    "content": "本人承包地被征收用于县道建设，征地补偿款至今仍有3万元未发放，请求督促落实。",
}


def _specs() -> tuple[LevelSpec, ...]:
    """The demo's three levels on free ports."""
    return tuple(
        LevelSpec(
            s.name,
            s.label,
            s.scope,
            s.lower,
            {name: free_port() for name in SERVICES},
            s.registrar,
        )
        for s in THREE_LEVELS
    )


@pytest.fixture
async def levels(tmp_path: Path, databases: Databases) -> AsyncIterator[Levels]:
    specs = _specs()
    urls = {s.name: {n: await databases.new(f"{s.name}_{n}") for n in SERVICES} for s in specs}
    lv = await asyncio.to_thread(
        start_levels,
        tmp_path / "var",
        specs=specs,
        broker_port=free_port(),
        database_urls=urls,
        partitions=3,
        extra_env={"XF_CLOCK_MODE": "manual", "XF_KAFKA_SESSION_TIMEOUT_S": "2"},
    )
    try:
        yield lv
    finally:
        await asyncio.to_thread(lv.stop)


async def _login(client: httpx.AsyncClient, intake: str, username: str) -> dict[str, str]:
    password = next(u["password"] for u in demo_users() if u["username"] == username)
    r = await client.post(
        intake + "/api/v1/auth/token", data={"username": username, "password": password}
    )
    assert r.status_code == 200, (username, r.text)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _advance(lv: Levels, days: int = 0, *, minutes: int = 0) -> None:
    """`xf-clock advance`: one command moves the clock of every level (one broker)."""
    step = f"{days}d" if days else f"{minutes}m"
    cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance", step, "--json"]
    for spec in lv.specs:
        for name in SERVICES:
            cmd += ["--wait", lv.stacks[spec.name].url(name) + "/healthz"]
    env = lv.stacks["city"].env
    out = await asyncio.to_thread(
        subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=90
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["lagging"] == []


async def test_three_levels_route_supervise_escalate_and_scope(levels: Levels) -> None:
    city, county, town = (levels.stacks[n] for n in ("city", "county", "township"))
    tree = org.default_tree()
    async with httpx.AsyncClient(timeout=30) as client:
        # every level's accounts live in that level's intake
        town_desk = await _login(client, town.url("intake"), "liutang.registrar")
        county_sup = await _login(client, county.url("intake"), "qinghe.supervisor")
        county_desk = await _login(client, county.url("intake"), "qinghe.registrar")
        zhen_desk = await _login(client, county.url("intake"), "qinghezhen.registrar")
        city_sup = await _login(client, city.url("intake"), "city.supervisor")
        # an account is only where its unit is served: 柳塘乡's registrar is not the county's
        r = await client.post(
            county.url("intake") + "/api/v1/auth/token",
            data={"username": "liutang.registrar", "password": "demo-liutang-desk"},
        )
        assert r.status_code == 401

        # each level's live stream, as that level's supervisor / registrar sees it
        frames: dict[str, list[dict[str, Any]]] = {"city": [], "county": [], "township": []}
        streams: list[tuple[httpx.AsyncClient, asyncio.Task[None]]] = []

        async def close_streams() -> None:
            for sse_client, task in streams:
                task.cancel()
                await sse_client.aclose()
            streams.clear()

        async def open_streams() -> None:
            """(Re)open the three streams with fresh tokens, replaying from the start: a
            stream ends when its token expires on the system clock."""
            await close_streams()
            for name, user in (
                ("city", "city.supervisor"),
                ("county", "qinghe.supervisor"),
                ("township", "liutang.registrar"),
            ):
                stack = levels.stacks[name]
                headers = await _login(client, stack.url("intake"), user)
                frames[name].clear()
                ready = asyncio.Event()
                sse_client = httpx.AsyncClient(timeout=None, headers=headers)
                url = stack.url("notify") + "/api/v1/stream?since=0"
                task = asyncio.create_task(sse_frames(sse_client, url, frames[name], ready))
                streams.append((sse_client, task))
                await asyncio.wait_for(ready.wait(), 10)

        await open_streams()

        # 1. the township registers a land-requisition petition: the township routes it to the
        #    county's natural-resources bureau (交办 across levels, over the shared broker)
        r = await client.post(
            town.url("intake") + "/api/v1/petitions",
            json={
                **LAND,
                "receiving_office_code": "339922102",
                "matter_location_code": "339922102201",
            },
            headers=town_desk,
        )
        assert r.status_code == 201, r.text
        t_registered = time.monotonic()
        case = r.json()
        cid = case["case_id"]
        # the township's registrar cannot register for the county's offices
        r = await client.post(
            town.url("intake") + "/api/v1/petitions",
            json={**LAND, "receiving_office_code": "339922101"},
            headers=town_desk,
        )
        assert r.status_code == 403

        async def case_at(stack: Any, headers: dict[str, str], service: str = "supervision") -> Any:
            r = await client.get(f"{stack.url(service)}/api/v1/cases/{cid}", headers=headers)
            return r.json() if r.status_code == 200 else None

        at_county = await eventually(
            lambda: case_at(county, county_sup), timeout=45, what="county holds the case"
        )
        assert at_county["unit_code"] == "339922-zrzy"
        timings = {"township_to_county_case_s": round(time.monotonic() - t_registered, 2)}
        routed = await case_at(town, town_desk, "routing")
        assert routed["holder_code"] == "339922-zrzy"  # the township routed it
        # the county routes only what its own offices registered: it watches this one (no
        # second routing), and objections or reassignment belong to the township's routing
        watched = await eventually(
            lambda: case_at(county, county_sup, "routing"), timeout=30, what="county watches"
        )
        assert watched["status"] == "watched" and watched["holder_code"] == "339922-zrzy"
        zrzy = await _login(client, county.url("intake"), "qinghe.zrzy")
        r = await client.post(
            f"{county.url('routing')}/api/v1/cases/{cid}/objection",
            json={"department_code": "339922-zrzy", "reason": "征地补偿由乡政府负责，不属本局职责"},
            headers=zrzy,
        )
        assert r.status_code == 409 and "受理层级" in r.json()["message"], r.text
        await eventually(lambda: case_at(city, city_sup), timeout=30, what="city watches it")

        # 2. the other township's item, registered at the county (清河镇 runs no deployment)
        r = await client.post(
            county.url("intake") + "/api/v1/petitions",
            json={
                **LAND,
                "petitioners": [{"name": "钱五", "phone": "13905710098"}],
                "receiving_office_code": "339922101",
                "matter_location_code": "339922101201",
                "content": "村里修路占用了我家宅基地旁的自留地，没有任何补偿，请求处理。",
            },
            headers=county_desk,
        )
        assert r.status_code == 201, r.text
        zhen_case = r.json()["case_id"]

        async def zhen_at_county() -> Any:
            r = await client.get(
                f"{county.url('supervision')}/api/v1/cases/{zhen_case}", headers=county_sup
            )
            return r.json() if r.status_code == 200 else None

        await eventually(zhen_at_county, timeout=45, what="清河镇 case at the county")

        # the same petitioner goes on to the county about the same matter: the county links it
        # to the township's open case (重复信访) instead of opening a second one
        r = await client.post(
            county.url("intake") + "/api/v1/petitions",
            json={
                **LAND,
                "receiving_office_code": "339922",
                "matter_location_code": "339922102201",
                "content": "柳塘乡县道征地补偿款3万元一直没有发放，乡里说已经上报，请县里督促。",
            },
            headers=county_desk,
        )
        assert r.status_code == 201, r.text
        again = r.json()["case_id"]

        async def linked_at_county() -> Any:
            r = await client.get(
                f"{county.url('routing')}/api/v1/cases/{again}", headers=county_sup
            )
            return r.json() if r.status_code == 200 else None

        repeat = await eventually(linked_at_county, timeout=45, what="repeat linked at the county")
        assert repeat["status"] == "linked" and repeat["linked_to"] == cid, repeat

        # a user of one township gets 404 on the other township's case, at every service
        for service in ("supervision", "routing"):
            r = await client.get(
                f"{county.url(service)}/api/v1/cases/{zhen_case}", headers=town_desk
            )
            assert r.status_code == 404, (service, r.text)
        r = await client.get(f"{county.url('supervision')}/api/v1/cases/{cid}", headers=zhen_desk)
        assert r.status_code == 404
        assert (
            await client.get(
                f"{town.url('supervision')}/api/v1/cases/{zhen_case}", headers=town_desk
            )
        ).status_code == 404

        # 2b. a collective visit at the township: the township's alarm sounds at once; nobody
        #     there signs for it within the hour, so the county's notify takes it over, and the
        #     county's 签收 closes it at the township too
        r = await client.post(
            town.url("intake") + "/api/v1/petitions",
            json={
                **LAND,
                "petitioners": [{"name": "孙六", "phone": "13905710097"}],
                "persons": 7,
                "receiving_office_code": "339922102",
                "matter_location_code": "339922102202",
                "title": "村民集体反映征地补偿问题",
                "content": "七户村民集体来访，反映村集体土地被征收后补偿款分配不公开，要求公开账目。",
            },
            headers=town_desk,
        )
        assert r.status_code == 201 and r.json()["collective"], r.text
        crowd = r.json()["case_id"]

        def alarms(level: str, kind: str, case_id: str = "") -> list[dict[str, Any]]:
            return [
                f
                for f in frames[level]
                if f["case_id"] == (case_id or crowd) and f["source_event_type"] == kind
            ]

        await eventually(
            lambda: alarms("township", "alert.collective"), timeout=30, what="township alarm"
        )
        # the county's leaders are told at once, but signing for it is the township's
        await eventually(lambda: alarms("county", "alert.collective"), timeout=30, what="told")
        r = await client.get(county.url("notify") + "/api/v1/alerts", headers=county_sup)
        assert not [a for a in r.json() if a["case_id"] == crowd]
        await _advance(levels, minutes=61)
        await eventually(
            lambda: alarms("county", "alert.escalated"), timeout=45, what="county takes over"
        )
        r = await client.get(county.url("notify") + "/api/v1/alerts?open=true", headers=county_sup)
        [alert] = [a for a in r.json() if a["case_id"] == crowd]
        assert alert["unit_code"] == "339922" and alert["escalations"] == 1
        r = await client.post(
            f"{county.url('notify')}/api/v1/alerts/{alert['alert_id']}/ack",
            json={"note": "已安排县信访局接待"},
            headers=county_sup,
        )
        assert r.status_code == 200, r.text

        async def closed_at_township() -> Any:
            r = await client.get(town.url("notify") + "/api/v1/alerts", headers=town_desk)
            return [a for a in r.json() if a["case_id"] == crowd and a["acknowledged_at"]]

        [closed] = await eventually(closed_at_township, timeout=30, what="closed at township")
        assert "qinghe.supervisor" in closed["acknowledged_by"]
        assert not alarms("city", "alert.escalated")  # signed for before it reached the city

        # every person and robot was told of it once, by one level, though all three read it
        told: dict[tuple[str, str, str], int] = {}
        for stack, headers in ((city, city_sup), (county, county_sup), (town, town_desk)):
            r = await client.get(
                stack.url("notify") + f"/api/v1/deliveries?case_id={crowd}", headers=headers
            )
            assert r.status_code == 200, r.text
            for d in r.json():
                key = (d["source_event_id"], d["channel"], d["address"])
                told[key] = told.get(key, 0) + 1
        assert told and all(n == 1 for n in told.values()), told

        # each level's case list: exactly its users' scope
        async def listed(stack: Any, headers: dict[str, str]) -> set[str]:
            r = await client.get(stack.url("supervision") + "/api/v1/cases", headers=headers)
            assert r.status_code == 200, r.text
            return {c["case_id"] for c in r.json()}

        assert cid in await listed(town, town_desk)
        assert zhen_case not in await listed(town, town_desk)
        assert {cid, zhen_case} <= await listed(county, county_sup)
        assert cid not in await listed(county, zhen_desk)
        assert {cid, zhen_case} <= await listed(city, city_sup)

        # 3. past the deadline: the county's supervision runs this case's clock (its unit is
        #    the county's), sends the overdue notice and the county petition bureau's 督办 order
        due = date.fromisoformat(at_county["deadlines"][0]["due_date"])
        start = date.fromisoformat(at_county["deadlines"][0]["start_date"])
        t_clock = time.monotonic()
        await _advance(levels, (due - start).days + 1)
        # tokens expire on the system's clock (8 h): log in again after the jump
        county_sup = await _login(client, county.url("intake"), "qinghe.supervisor")
        city_sup = await _login(client, city.url("intake"), "city.supervisor")
        await open_streams()

        def of_case(level: str, kind: str) -> list[dict[str, Any]]:
            return [
                f for f in frames[level] if f["case_id"] == cid and f["source_event_type"] == kind
            ]

        await eventually(
            lambda: of_case("county", "case.supervision_order"), timeout=45, what="county 督办"
        )
        assert of_case("county", "deadline.overdue")
        timings["clock_to_county_duban_s"] = round(time.monotonic() - t_clock, 2)
        view = await case_at(county, county_sup)
        assert [o["issued_by"] for o in view["orders"]] == ["339922-xfj"]
        # the city's copy follows (mirrored), but the city sends nothing of its own
        city_view = await eventually(
            lambda: _with_orders(case_at(city, city_sup)), timeout=30, what="city copy"
        )
        assert [o["issued_by"] for o in city_view["orders"]] == ["339922-xfj"]

        # the city may look but not act on a case another level runs
        r = await client.post(
            f"{city.url('supervision')}/api/v1/cases/{cid}/actions/accept",
            json={},
            headers=city_sup,
        )
        assert r.status_code in (403, 409), r.text
        assert (await case_at(city, city_sup))["status"] == view["status"]
        r = await client.post(
            f"{city.url('supervision')}/api/v1/cases/{cid}/leader",
            json={"leader": "周市长"},
            headers=city_sup,
        )
        assert r.status_code == 409 and "该级系统" in r.json()["message"], r.text

        # the county names the leader in charge (包案) and the department answers the 督办 in
        # writing, at the county: the city's copy shows both
        r = await client.post(
            f"{county.url('supervision')}/api/v1/cases/{cid}/leader",
            json={"leader": "李副县长"},
            headers=county_sup,
        )
        assert r.status_code == 200, r.text
        zrzy = await _login(client, county.url("intake"), "qinghe.zrzy")
        r = await client.post(
            f"{county.url('supervision')}/api/v1/orders/{view['orders'][0]['id']}/feedback",
            json={"text": "已约谈征收实施单位，补偿款将于本月底前发放到位。"},
            headers=zrzy,
        )
        assert r.status_code == 200, r.text

        async def city_sees_answers() -> Any:
            v = await case_at(city, city_sup)
            done = v and v["leader"] == "李副县长" and v["orders"][0]["feedback"]
            return v if done else None

        await eventually(city_sees_answers, timeout=30, what="leader and feedback at the city")

        # 4. a week more and still not done: the county escalates it to the city (提级督办)
        t_clock = time.monotonic()
        await _advance(levels, 7)
        city_sup = await _login(client, city.url("intake"), "city.supervisor")
        await open_streams()
        await eventually(
            lambda: of_case("city", "case.escalated"), timeout=45, what="escalation at the city"
        )
        timings["clock_to_city_escalation_s"] = round(time.monotonic() - t_clock, 2)
        print(json.dumps({"three_levels": timings}))
        city_view = await eventually(
            lambda: _escalated(case_at(city, city_sup)), timeout=30, what="city copy escalated"
        )
        assert city_view["escalations"] >= 1

        await asyncio.sleep(2)  # let any stray frame arrive before checking what each saw
        await close_streams()

        # each level's stream showed exactly what that level may see
        county_scope = Scope.of(
            Principal("qinghe.supervisor", "清河县督办员", Role.SUPERVISOR, "339922"), tree
        )
        assert all(
            f["unit_code"] is None or county_scope.covers(f["unit_code"]) for f in frames["county"]
        ), frames["county"]
        assert {f["source_event_type"] for f in frames["city"] if f["case_id"] == cid} == {
            "case.escalated"
        }, frames["city"]
        assert not [f for f in frames["township"] if f["case_id"] in (cid, zhen_case)]
        # and no notice was sent twice: one level runs each clock
        assert len(of_case("county", "case.supervision_order")) == len(
            {f["recipient"] for f in of_case("county", "case.supervision_order")}
        )


async def _with_orders(view: Any) -> Any:
    v = await view
    return v if v and v.get("orders") else None


async def _escalated(view: Any) -> Any:
    v = await view
    return v if v and v.get("escalations") else None
