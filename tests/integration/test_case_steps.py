"""What the case page offers and the 督办 a supervisor issues by hand (issue #16):
``CaseRead.allowed_actions`` lists exactly the steps this caller may take now (the state allows
it and the caller's role and unit may), and ``POST /api/v1/cases/{id}/orders`` issues an order
like the sweep's (same table, same ``case.supervision_order`` event). No broker needed; run on
PostgreSQL too (XF_TEST_DATABASE=postgresql)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from fastapi import FastAPI
from xinfang_shared.auth.models import Role
from xinfang_shared.timeutil import local_date
from xinfang_supervision.models import orders, outbox

from tests.apps import running
from tests.conftest import Databases
from tests.integration.test_worklist import open_case, supervision_app, who


async def offered(client: httpx.AsyncClient, case_id: str, headers: dict[str, str]) -> list[str]:
    r = await client.get(f"/api/v1/cases/{case_id}", headers=headers)
    assert r.status_code == 200, r.text
    actions = r.json()["allowed_actions"]
    assert all(a["label"] for a in actions)
    return [a["action"] for a in actions]


async def stored(app: FastAPI) -> tuple[int, list[dict[str, Any]]]:
    """The orders stored, and the case.supervision_order events staged in the outbox."""
    async with app.state.runtime.sessions() as session:
        n = (await session.execute(sa.select(sa.func.count()).select_from(orders))).scalar_one()
        events = (
            await session.execute(
                sa.select(outbox.c.value).where(outbox.c.topic == "case.supervision_order")
            )
        ).all()
    return int(n), [json.loads(e.value) for e in events]


async def test_each_caller_is_offered_exactly_the_steps_it_may_take(databases: Databases) -> None:
    app = await supervision_app(databases)
    async with running(app) as client:
        cid = await open_case(app, to="339922-zrzy")
        handler = who(app, "qh.zrzy", Role.HANDLER, "339922-zrzy")
        other_bureau = who(app, "qh.rsj", Role.HANDLER, "339922-rsj")
        registrar = who(app, "qh.desk", Role.REGISTRAR, "339922")
        leader = who(app, "qh.wang", Role.LEADER, "339922")
        county = who(app, "qh.duban", Role.SUPERVISOR, "339922")
        township = who(app, "lt.duban", Role.SUPERVISOR, "339922102")

        assert await offered(client, cid, handler) == ["accept", "decline"]
        assert (await client.get(f"/api/v1/cases/{cid}", headers=other_bureau)).status_code == 404
        assert (await client.get(f"/api/v1/cases/{cid}", headers=township)).status_code == 404
        assert await offered(client, cid, registrar) == []
        assert await offered(client, cid, county) == ["leader", "order"]
        assert await offered(client, cid, leader) == ["leader", "order"]

        accepted = await client.post(
            f"/api/v1/cases/{cid}/actions/accept", json={}, headers=handler
        )
        assert accepted.status_code == 200
        # the step's answer already carries what the caller may do next
        after = [a["action"] for a in accepted.json()["allowed_actions"]]
        assert after == ["reply", "request_extension"]
        assert await offered(client, cid, handler) == ["reply", "request_extension"]
        assert await offered(client, cid, leader) == ["extend", "leader", "order"]
        assert await offered(client, cid, county) == ["leader", "order"]
        assert await offered(client, cid, registrar) == []

        asked = await client.post(
            f"/api/v1/cases/{cid}/extension-request",
            json={"days": 10, "reason": "需补充调查"},
            headers=handler,
        )
        assert asked.status_code == 200, asked.text
        assert await offered(client, cid, handler) == ["reply"]  # one request at a time
        reply = {
            "outcome": "予以支持",
            "facts": "查明属实",
            "reasons": "理由",
            "legal_basis": "依据",
        }
        replied = await client.post(
            f"/api/v1/cases/{cid}/actions/reply", json=reply, headers=handler
        )
        assert replied.status_code == 200, replied.text
        assert await offered(client, cid, handler) == ["close"]
        # the review belongs to the office above the county (the city's): its desk registers it
        assert await offered(client, cid, registrar) == []
        city_desk = who(app, "jl.desk", Role.REGISTRAR, "339900")
        assert await offered(client, cid, city_desk) == ["request_review"]
        assert await offered(client, cid, county) == ["leader"]  # no open deadline: no 督办
        # a service account may take any step the state allows (the workbench's own calls
        # go with the user's token)
        assert await offered(client, cid, {}) == ["close", "request_review", "leader"]


async def test_a_supervisor_of_the_overseeing_office_issues_a_supervision_order(
    databases: Databases,
) -> None:
    app = await supervision_app(databases)
    async with running(app) as client:
        cid = await open_case(app, to="339922-zrzy")
        declined = await open_case(app, to="339922-zrzy")
        today = local_date(app.state.runtime.clock.now())
        handler = who(app, "qh.zrzy", Role.HANDLER, "339922-zrzy")
        county = who(app, "qh.duban", Role.SUPERVISOR, "339922")
        neighbour = who(app, "lj.duban", Role.SUPERVISOR, "339902")
        due = (today + timedelta(days=10)).isoformat()
        body = {"reason": "群众反映强烈，请加快办理", "feedback_due": due}

        # refused: the handler may not supervise itself (403), another county sees no case (404)
        refused = await client.post(f"/api/v1/cases/{cid}/orders", json=body, headers=handler)
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert "清河县信访局" in refused.json()["message"]
        hidden = await client.post(f"/api/v1/cases/{cid}/orders", json=body, headers=neighbour)
        assert hidden.status_code == 404
        # bad input: 422 naming the field, nothing stored
        for bad, field in [
            ({**body, "feedback_due": (today - timedelta(days=1)).isoformat()}, "feedback_due"),
            ({**body, "feedback_due": (today + timedelta(days=31)).isoformat()}, "feedback_due"),
            ({**body, "feedback_due": "2026-02-30"}, "feedback_due"),
            ({**body, "reason": ""}, "reason"),
            ({**body, "reason": "   "}, "reason"),
            ({**body, "reason": "x" * 501}, "reason"),
            ({"reason": "督办"}, "feedback_due"),
        ]:
            r = await client.post(f"/api/v1/cases/{cid}/orders", json=bad, headers=county)
            assert r.status_code == 422, (bad, r.text)
            errors = r.json()["errors"]
            assert [e["field"] for e in errors] == [field], errors
            assert errors[0]["message"] and errors[0]["message_en"]
        assert await stored(app) == (0, [])

        issued = await client.post(f"/api/v1/cases/{cid}/orders", json=body, headers=county)
        assert issued.status_code == 200, issued.text
        view = issued.json()
        [order] = view["orders"]
        assert (order["issued_by"], order["issued_to"], order["feedback_due"]) == (
            "339922-xfj",
            "339922-zrzy",
            due,
        )
        assert order["feedback_at"] is None
        last = view["history"][-1]
        assert last["action"] == "supervision_order" and "群众反映强烈" in last["note"]
        assert last["actor"] == "QH.DUBAN（qh.duban）"
        count, events = await stored(app)
        assert count == 1 and len(events) == 1
        data = events[0]["data"]
        assert (data["order_id"], data["case_id"], data["issued_to"]) == (
            order["id"],
            cid,
            "339922-zrzy",
        )
        assert data["issued_by_name"] == "清河县信访局" and data["feedback_due"] == due

        # the handling body is now offered the feedback, and gives it once
        assert f"feedback:{order['id']}" in await offered(client, cid, handler)
        fed = await client.post(
            f"/api/v1/orders/{order['id']}/feedback", json={"text": "已加快办理"}, headers=handler
        )
        assert fed.status_code == 200, fed.text
        assert not any(a.startswith("feedback:") for a in await offered(client, cid, handler))

        # a case no longer being handled: 409, nothing stored
        r = await client.post(
            f"/api/v1/cases/{declined}/actions/decline", json={"reason": "不属于"}, headers=handler
        )
        assert r.status_code == 200
        closed = await client.post(f"/api/v1/cases/{declined}/orders", json=body, headers=county)
        assert closed.status_code == 409, closed.text
        assert closed.json()["message"] and closed.json()["message_en"]
        assert "order" not in await offered(client, declined, county)
        assert (await stored(app))[0] == 1
