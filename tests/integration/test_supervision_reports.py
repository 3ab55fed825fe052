"""Supervision's reports and alerts are scoped like its case lists (issue #13 item 8): a handler
sees its own unit's overdue deadlines and emerging alerts, not the county's; and what a person
reads comes with its Chinese label (item 13)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
from xinfang_shared.auth.models import Role
from xinfang_shared.timeutil import local_date

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_collective_detection import VILLAGE, alerts_for, item, send
from tests.integration.test_scoping import bearer
from tests.integration.test_supervision import case_of, routed, supervision
from tests.kafka_helpers import TopicReader, produce


async def test_a_handler_sees_only_its_own_units_overdue_report_and_emerging_alerts(
    broker: str, databases: Databases
) -> None:
    category = f"land_{uuid.uuid4().hex[:8]}"
    app = await supervision(databases, broker, XF_EMERGING_THRESHOLD=2)
    zrzy_case, rsj_case = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(app) as client, TopicReader(broker, "alert.emerging") as reader:
        clock = app.state.runtime.clock
        settings = app.state.runtime.settings
        now = clock.now()
        zrzy = bearer(settings, now, "lj.zrzy", Role.HANDLER, "339902-zrzy")
        rsj = bearer(settings, now, "lj.rsj", Role.HANDLER, "339902-rsj")
        district = bearer(settings, now, "lj.duban", Role.SUPERVISOR, "339902")
        for cid, dept in ((zrzy_case, "339902-zrzy"), (rsj_case, "339902-rsj")):
            await produce(
                broker,
                "case.routed",
                routed(cid, to=dept, to_name="x", supervising="339902-xfj", at=now),
                key=cid.encode(),
            )
        # two petitioners of one village about one matter: an emerging alert (cases at zrzy)
        for who in ("a", "b"):
            cid = str(uuid.uuid4())
            await send(
                broker, cid, item(cid, place=VILLAGE, category=category, petitioner=who, at=now)
            )
        await eventually(lambda: alerts_for(reader, category), timeout=60, what="emerging alert")

        async def listed(headers: dict[str, str]) -> list[str]:
            r = await client.get("/api/v1/alerts/emerging", headers=headers)
            assert r.status_code == 200
            return [a["category"] for a in r.json()]

        await eventually(lambda: _has(client, category), timeout=30, what="alert stored")
        assert category in await listed(district)
        assert category in await listed(zrzy)
        assert category not in await listed(rsj)

        c = await eventually(lambda: case_of(client, rsj_case), timeout=30)
        due = date.fromisoformat(c["deadlines"][0]["due_date"])
        await clock.set_offset(timedelta(days=(due - local_date(now)).days + 2))
        await client.post("/api/v1/sweep")
        later = clock.now()  # (tokens on the business clock: issue them after the jump)
        rsj = bearer(settings, later, "lj.rsj", Role.HANDLER, "339902-rsj")
        district = bearer(settings, later, "lj.duban", Role.SUPERVISOR, "339902")

        async def report(headers: dict[str, str]) -> set[str]:
            r = await client.get("/api/v1/reports/overdue", headers=headers)
            assert r.status_code == 200
            return {o["case_id"] for u in r.json()["units"] for o in u["overdue"]}

        assert {zrzy_case, rsj_case} <= await report(district)
        mine = await report(rsj)
        assert rsj_case in mine and zrzy_case not in mine
        r = await client.get("/api/v1/reports/overdue", headers=rsj)
        assert {u["unit_code"] for u in r.json()["units"]} == {"339902-rsj"}


async def _has(client: httpx.AsyncClient, category: str) -> bool:
    r = await client.get("/api/v1/alerts/emerging")
    return category in [a["category"] for a in r.json()]


async def test_the_case_list_and_page_show_the_chinese_labels_beside_the_codes(
    broker: str, databases: Databases
) -> None:
    from xinfang_shared.events import CaseRouted, new_event

    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with running(app) as client:
        now = app.state.runtime.clock.now()
        data = CaseRouted(
            case_id=cid,
            case_number=f"N-{cid[:8]}",
            hop=1,
            action="转送",
            from_unit_code="339922-xfj",
            from_unit_name="清河县信访局",
            to_unit_code="339922-zrzy",
            to_unit_name="清河县自然资源和规划局",
            reason="test",
            routed_at=now,
            received_at=now,
            final=True,
            supervising_code="339922-xfj",
            category="land_requisition",
            category_name="土地征收补偿",
        )
        await produce(
            broker,
            "case.routed",
            new_event(data=data, source="/test/routing", time=now).to_bytes(),
            key=cid.encode(),
        )
        c = await eventually(lambda: case_of(client, cid), timeout=30)
        assert c["category"] == "land_requisition" and c["category_label"] == "土地征收补偿"
        assert c["status"] == "routed" and c["status_label"] == "已转送责任单位"
        assert c["deadlines"][0]["status_label"] == "进行中"
        assert c["history"][0]["action_label"] == "转送"
        [row] = [x for x in (await client.get("/api/v1/cases")).json() if x["case_id"] == cid]
        assert row["category_label"] == "土地征收补偿" and row["status_label"] == "已转送责任单位"
