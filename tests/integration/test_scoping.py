"""Data scoping on supervision's case API (issue #7): a caller sees its own org subtree, a
handler its own unit's cases, and a case outside is answered exactly as a missing one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_shared.events import CaseRouted, new_event
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app as supervision_app

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_consumers import common
from tests.kafka_helpers import produce


def routed(case_id: str, county: str, dept: str, name: str) -> bytes:
    now = datetime.now(UTC)
    data = CaseRouted(
        case_id=case_id,
        case_number=f"{county}-2026-{uuid.uuid4().int % 10**6:06d}",
        hop=1,
        action="转送",
        from_unit_code=county,
        from_unit_name="信访局",
        to_unit_code=f"{county}-{dept}",
        to_unit_name=name,
        reason="test",
        routed_at=now,
        received_at=now,
    )
    return new_event(data=data, source="/test/routing", time=now).to_bytes()


def bearer(
    settings: Any, now: datetime, username: str, role: Role, org_code: str
) -> dict[str, str]:
    who = Principal(username=username, name=username.upper(), role=role, org_code=org_code)
    token = issue_token(who, secret=settings.auth_secret, ttl_s=3600, now=now)
    return {"Authorization": f"Bearer {token}"}


async def test_each_caller_sees_only_its_subtree_and_outside_is_404(
    broker: str, databases: Databases
) -> None:
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=await databases.new("supervision"), **common(broker)
    )
    app = supervision_app(settings)
    qinghe, linjiang = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(app) as client:
        await produce(
            broker,
            "case.routed",
            routed(qinghe, "339922", "zrzy", "清河县自然资源局"),
            key=qinghe.encode(),
        )
        await produce(
            broker,
            "case.routed",
            routed(linjiang, "339902", "zrzy", "临江区自然资源局"),
            key=linjiang.encode(),
        )

        async def both_open() -> bool:
            a = await client.get(f"/api/v1/cases/{qinghe}")
            b = await client.get(f"/api/v1/cases/{linjiang}")
            return a.status_code == 200 and b.status_code == 200

        await eventually(both_open, timeout=30, what="both cases opened")
        now = app.state.runtime.clock.now()
        county = bearer(settings, now, "qh-duban", Role.SUPERVISOR, "339922")
        zrzy = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        rsj = bearer(settings, now, "qh-rsj", Role.HANDLER, "339922-rsj")
        missing = str(uuid.uuid4())

        # no token at all: 401 with a challenge, nothing read
        anonymous = await client.get(f"/api/v1/cases/{qinghe}", headers={"Authorization": ""})
        assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"

        # 清河县's supervisor: its own case yes, 临江区's is "not found" exactly like a missing one
        assert (await client.get(f"/api/v1/cases/{qinghe}", headers=county)).status_code == 200
        other = await client.get(f"/api/v1/cases/{linjiang}", headers=county)
        absent = await client.get(f"/api/v1/cases/{missing}", headers=county)
        assert other.status_code == absent.status_code == 404
        assert other.json() == absent.json()
        # (the shared test broker carries other tests' cases too: look at this test's two)
        listed = {c["case_id"] for c in (await client.get("/api/v1/cases", headers=county)).json()}
        assert qinghe in listed and linjiang not in listed
        assert all(
            c["unit_code"].startswith("339922")
            or (c["supervising_code"] or "").startswith("339922")
            for c in (await client.get("/api/v1/cases", headers=county)).json()
        )
        assert (
            await client.get(f"/api/v1/cases/{linjiang}/deadlines", headers=county)
        ).status_code == 404

        # a handler acts only on its own unit's case; another bureau of the same county gets 404
        assert (await client.get(f"/api/v1/cases/{qinghe}", headers=rsj)).status_code == 404
        refused = await client.post(
            f"/api/v1/cases/{qinghe}/actions/accept", json={"actor": "冒名"}, headers=rsj
        )
        assert refused.status_code == 404
        done = await client.post(f"/api/v1/cases/{qinghe}/actions/accept", json={}, headers=zrzy)
        assert done.status_code == 200, done.text
        view = (await client.get(f"/api/v1/cases/{qinghe}", headers=zrzy)).json()
        assert view["status"] == "accepted"
        # 责任倒查: the step is recorded as the logged-in handler's, not a name in the body
        assert view["history"][-1]["actor"] == "QH-ZRZY（qh-zrzy）"


async def test_registration_needs_a_registrar_of_the_receiving_office(
    broker: str, databases: Databases
) -> None:
    from xinfang_intake.main import create_app as intake_app

    from tests.integration.test_intake import counts, intake_settings, petition

    settings = await intake_settings(databases, broker)
    app = intake_app(settings)
    async with running(app, token=None) as client:
        now = app.state.runtime.clock.now()
        county = petition(receiving_office_code="339922")
        assert (await client.post("/api/v1/petitions", json=county)).status_code == 401

        township = bearer(settings, now, "liutang.desk", Role.REGISTRAR, "339922102")
        refused = await client.post("/api/v1/petitions", json=county, headers=township)
        assert refused.status_code == 403 and refused.json()["error"] == "office_out_of_scope"
        handler = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        assert (
            await client.post("/api/v1/petitions", json=county, headers=handler)
        ).status_code == 403
        assert (await counts(app))[0] == 0  # nothing stored by any refusal

        own = petition(receiving_office_code="339922102")
        assert (
            await client.post("/api/v1/petitions", json=own, headers=township)
        ).status_code == 201
        desk = bearer(settings, now, "qh-desk", Role.REGISTRAR, "339922")
        # a county registrar registers for the county and the townships below it
        for office in ("339922", "339922102"):
            body = petition(receiving_office_code=office)
            assert (
                await client.post("/api/v1/petitions", json=body, headers=desk)
            ).status_code == 201
        assert (await counts(app))[0] == 3
        # a petitioner's status lookup by query code stays open to the public
        code = (await client.post("/api/v1/petitions", json=own, headers=township)).json()[
            "query_code"
        ]
        assert (await client.get(f"/api/v1/petitions/{code}")).status_code == 200


async def test_routing_answers_a_case_outside_the_callers_subtree_as_missing(
    broker: str, databases: Databases
) -> None:
    from xinfang_routing.config import RoutingSettings
    from xinfang_routing.main import create_app as routing_app

    from tests.integration.test_consumers import received

    settings = RoutingSettings(
        XF_ROUTING_DATABASE_URL=await databases.new("routing"), **common(broker)
    )
    app = routing_app(settings)
    case_id = str(uuid.uuid4())
    async with running(app) as client:
        await produce(broker, "petition.received", received(case_id), key=case_id.encode())

        async def routed_view() -> Any:
            r = await client.get(f"/api/v1/cases/{case_id}")
            return r.json() if r.status_code == 200 and r.json().get("holder_code") else None

        view = await eventually(routed_view, timeout=30, what="routed")
        now = app.state.runtime.clock.now()
        holder = view["holder_code"]
        mine = bearer(settings, now, "h1", Role.HANDLER, holder)
        neighbour = bearer(settings, now, "lj", Role.SUPERVISOR, "339902")
        county = bearer(settings, now, "qh", Role.SUPERVISOR, "339922")
        other_bureau = "339922-rsj" if holder != "339922-rsj" else "339922-zrzy"
        other = bearer(settings, now, "h2", Role.HANDLER, other_bureau)
        for headers, status in ((mine, 200), (county, 200), (neighbour, 404), (other, 404)):
            assert (
                await client.get(f"/api/v1/cases/{case_id}", headers=headers)
            ).status_code == status
            assert (
                await client.get(f"/api/v1/cases/{case_id}/hops", headers=headers)
            ).status_code == status
        # a handler cannot reassign; a supervisor of the neighbouring county sees no such case
        body = {"to_department_code": other_bureau, "reason": "改派测试"}
        assert (
            await client.post(f"/api/v1/cases/{case_id}/reassign", json=body, headers=mine)
        ).status_code == 403
        assert (
            await client.post(f"/api/v1/cases/{case_id}/reassign", json=body, headers=neighbour)
        ).status_code == 404
