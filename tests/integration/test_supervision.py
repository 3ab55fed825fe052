"""The case lifecycle under the law, deadlines, 督办 and escalation: the supervision service
on the real broker and database, driven by the manual clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app as intake_app
from xinfang_shared.events import CaseLinked, CaseRouted, new_event
from xinfang_shared.timeutil import local_date
from xinfang_shared.workdays import next_workday_on_or_after
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.kafka_helpers import TopicReader, produce


def routed(
    case_id: str,
    *,
    to: str,
    to_name: str,
    supervising: str,
    at: datetime,
    manual: bool = False,
    action: str = "转送",
    hop: int = 1,
) -> bytes:
    data = CaseRouted(
        case_id=case_id,
        case_number=f"N-{case_id[:8]}",
        hop=hop,
        action=action,  # type: ignore[arg-type]
        needs_manual_triage=manual,
        from_unit_code=supervising,
        from_unit_name="x",
        to_unit_code=to,
        to_unit_name=to_name,
        reason="test",
        routed_at=at,
        received_at=at,
        final=True,
        supervising_code=supervising,
        category="village_affairs",
    )
    return new_event(data=data, source="/test/routing", time=at).to_bytes()


async def supervision(databases: Databases, broker: str, **extra: Any) -> Any:
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=await databases.new("supervision"),
        XF_SWEEP_INTERVAL_S=0.2,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
        **extra,
    )
    return create_app(settings)


async def act(client: httpx.AsyncClient, case_id: str, action: str, **body: Any) -> httpx.Response:
    return await client.post(
        f"/api/v1/cases/{case_id}/actions/{action}", json={"actor": "经办人", **body}
    )


async def case_of(client: httpx.AsyncClient, case_id: str) -> dict[str, Any] | None:
    r = await client.get(f"/api/v1/cases/{case_id}")
    return r.json() if r.status_code == 200 else None


async def test_full_path_to_final_with_windows_and_invalid_transitions(
    broker: str, databases: Databases
) -> None:
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with TopicReader(broker, "case.status_changed") as topic, running(app) as client:
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="清河县自然资源和规划局",
                supervising="339922-xfj",
                at=clock.now(),
            ),
            key=cid.encode(),
        )
        c = await eventually(lambda: case_of(client, cid), timeout=30, what="case opened")
        assert c["status"] == "routed" and [d["kind"] for d in c["deadlines"]] == [
            "acceptance_notice"
        ]

        # invalid transitions: 409 with the reason in Chinese, nothing changes
        r = await act(
            client, cid, "reply", outcome="予以支持", facts="f", reasons="r", legal_basis="l"
        )
        assert r.status_code == 409 and "不能出具处理意见书" in r.json()["message"]
        r = await act(client, cid, "request_review")
        assert r.status_code == 409
        assert (await case_of(client, cid))["status"] == "routed"  # type: ignore[index]

        assert (await act(client, cid, "accept")).status_code == 200
        c = await case_of(client, cid)
        kinds = {d["kind"]: d for d in c["deadlines"]}  # type: ignore[index]
        assert (
            kinds["acceptance_notice"]["status"] == "met" and kinds["handling"]["status"] == "open"
        )
        handling_due = date.fromisoformat(kinds["handling"]["due_date"])

        # extension: once, ≤ 30 days, with a reason; the approver is the caller, never a field
        assert (await act(client, cid, "extend", days=31, reason="案情复杂")).status_code == 422
        assert (
            await act(client, cid, "extend", days=20, reason="案情复杂", approver="张局长")
        ).status_code == 422
        assert (await act(client, cid, "extend", days=20)).status_code == 422  # no reason
        r = await act(client, cid, "extend", days=20, reason="需现场勘测")
        assert r.status_code == 200
        new_due = date.fromisoformat(
            {d["kind"]: d for d in r.json()["deadlines"]}["handling"]["due_date"]
        )
        # 60 + 20 days from acceptance; only the final end moves off a holiday (民法典 §203)
        accepted_on = local_date(datetime.now(UTC))
        assert handling_due == next_workday_on_or_after(accepted_on + timedelta(days=60))
        assert new_due == next_workday_on_or_after(accepted_on + timedelta(days=80))
        assert new_due > handling_due
        again = await act(client, cid, "extend", days=5, reason="再延")
        assert again.status_code == 409 and again.json()["message"] == "办理期限只能延长一次"

        assert (
            await act(client, cid, "reply", outcome="同意", facts="f", reasons="r", legal_basis="l")
        ).status_code == 422
        r = await act(
            client,
            cid,
            "reply",
            outcome="作出解释说明",
            facts="补偿标准符合规定",
            reasons="已按标准发放",
            legal_basis="《土地管理法》第四十八条",
        )
        assert r.status_code == 200 and r.json()["status"] == "replied"

        # review within 30 days, then answered; re-review; a hearing does not count; final
        await clock.set_offset(timedelta(days=10))
        assert (await act(client, cid, "request_review")).status_code == 200
        assert (
            await act(client, cid, "answer_review", outcome="维持原处理意见")
        ).status_code == 200
        assert (await act(client, cid, "request_rereview")).status_code == 200
        before = {d["kind"]: d for d in (await case_of(client, cid))["deadlines"]}[
            "rereview_answer"
        ]  # type: ignore[index]
        r = await client.post(f"/api/v1/cases/{cid}/hearing", json={"actor": "复核办", "days": 10})
        assert r.status_code == 200
        after = {d["kind"]: d for d in r.json()["deadlines"]}["rereview_answer"]
        assert date.fromisoformat(after["due_date"]) == date.fromisoformat(
            before["due_date"]
        ) + timedelta(days=10)
        r = await act(client, cid, "answer_rereview", outcome="维持复查意见")
        assert r.status_code == 200 and r.json()["status"] == "final"
        r = await act(client, cid, "request_review")
        assert r.status_code == 409 and "不再受理" in r.json()["message"]

        # every transition is in the history with who and when, and was announced
        c = await case_of(client, cid)
        actions = [h["action"] for h in c["history"]]  # type: ignore[index]
        assert actions == [
            "routed",
            "accept",
            "extend",
            "reply",
            "request_review",
            "answer_review",
            "request_rereview",
            "hearing",
            "answer_rereview",
        ]
        assert all(h["actor"] and h["at"] for h in c["history"])  # type: ignore[index]
        changed = await eventually(
            lambda: [e for e in topic.events(subject=cid) if e["data"]["new_status"] == "final"]
        )
        assert "不再受理" in changed[0]["data"]["next_step"]


async def test_overdue_township_case_is_supervised_by_the_county_then_escalated_to_the_city(
    broker: str, databases: Databases
) -> None:
    app = await supervision(databases, broker, XF_ESCALATION_GRACE_DAYS=5)
    cid = str(uuid.uuid4())
    topics = ("deadline.reminder", "deadline.overdue", "case.supervision_order", "case.escalated")
    async with TopicReader(broker, *topics) as topic, running(app) as client:
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922102-zf",
                to_name="柳塘乡人民政府",
                supervising="339922102-xfb",
                at=clock.now(),
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        r = await client.post(
            f"/api/v1/cases/{cid}/leader", json={"actor": "县信访局", "leader": "李副县长"}
        )
        assert r.status_code == 200
        due = date.fromisoformat((await case_of(client, cid))["deadlines"][0]["due_date"])  # type: ignore[index]
        start = local_date(clock.now())

        # one day past due: overdue and a 督办 order from the county petition bureau
        await clock.set_offset(timedelta(days=(due - start).days + 1))
        [order] = await eventually(
            lambda: topic.events(type_="case.supervision_order", subject=cid), timeout=30
        )
        assert (
            order["data"]["issued_by"] == "339922-xfj"
            and order["data"]["issued_to"] == "339922102-zf"
        )
        assert order["data"]["leader"] == "李副县长"
        assert topic.events(type_="deadline.overdue", subject=cid)
        assert not topic.events(type_="case.escalated", subject=cid)

        # still overdue after the grace: escalated to the city
        await clock.set_offset(timedelta(days=(due - start).days + 1 + 5))
        [esc] = await eventually(
            lambda: topic.events(type_="case.escalated", subject=cid), timeout=30
        )
        assert (
            esc["data"]["from_unit_code"] == "339922-xfj"
            and esc["data"]["to_unit_code"] == "339900-xfj"
        )
        assert esc["data"]["leader"] == "李副县长"
        # the city is the top of this tree: no further escalation, however late
        await clock.set_offset(timedelta(days=(due - start).days + 40))
        await client.post("/api/v1/sweep")
        assert len(topic.events(type_="case.escalated", subject=cid)) == 1
        c = await case_of(client, cid)
        assert c["deadlines"][0]["supervisor_code"] == "339900-xfj"  # type: ignore[index]
        assert [o["issued_by"] for o in c["orders"]] == ["339922-xfj"]  # type: ignore[index]

        # written feedback on the order is recorded
        fb = await client.post(
            f"/api/v1/orders/{c['orders'][0]['id']}/feedback",  # type: ignore[index]
            json={"actor": "柳塘乡", "text": "已约谈村委会，正在核实"},
        )
        assert (
            fb.status_code == 200 and fb.json()["orders"][0]["feedback"] == "已约谈村委会，正在核实"
        )

        report = (await client.get("/api/v1/reports/overdue")).json()
        assert "周信访事项超期情况通报" in report["title"]
        [unit] = [u for u in report["units"] if u["unit_code"] == "339922102-zf"]
        assert any(o["case_id"] == cid for o in unit["overdue"])


async def test_backlog_by_repeats_and_by_age(broker: str, databases: Databases) -> None:
    app = await supervision(databases, broker, XF_BACKLOG_AFTER_DAYS=30)
    old, rep = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(app) as client:
        clock = app.state.runtime.clock
        for cid in (old, rep):
            await produce(
                broker,
                "case.routed",
                routed(
                    cid, to="339922-zrzy", to_name="x", supervising="339922-xfj", at=clock.now()
                ),
                key=cid.encode(),
            )
            await eventually(lambda cid=cid: case_of(client, cid), timeout=30)
        for n in (2, 3):
            now = clock.now()
            linked = CaseLinked(
                case_id=str(uuid.uuid4()),
                case_number="x",
                linked_case_id=rep,
                linked_case_number="y",
                match="重复信访",
                similarity=0.5,
                repeat_count=n,
                receiving_office_code="339922",
                linked_at=now,
            )
            await produce(
                broker,
                "case.linked",
                new_event(data=linked, source="/t", time=now).to_bytes(),
                key=rep.encode(),
            )
        c = await eventually(lambda: _backlog(client, rep), timeout=30)
        assert c["repeat_count"] == 3 and "重复信访3次" in c["backlog_reasons"]
        await act(client, old, "accept")
        await clock.set_offset(timedelta(days=31))
        await client.post("/api/v1/sweep")
        c = await eventually(lambda: _backlog(client, old), timeout=30)
        assert any("超过30日" in r for r in c["backlog_reasons"])
        assert {x["case_id"] for x in (await client.get("/api/v1/backlog")).json()} >= {old, rep}


def _linked(case_id: str, count: int, at: datetime) -> bytes:
    linked = CaseLinked(
        case_id=str(uuid.uuid4()),
        case_number="x",
        linked_case_id=case_id,
        linked_case_number="y",
        match="重复信访",
        similarity=0.5,
        repeat_count=count,
        receiving_office_code="339922",
        linked_at=at,
    )
    return new_event(data=linked, source="/t", time=at).to_bytes()


async def test_a_case_entering_the_backlog_publishes_one_event_per_new_reason(
    broker: str, databases: Databases
) -> None:
    """case.backlog (the reports' 积案 ledger reads it): published with the reason, in the
    transaction that marks the case, once per reason the case did not have yet."""
    app = await supervision(databases, broker, XF_BACKLOG_AFTER_DAYS=30)
    rep, old = str(uuid.uuid4()), str(uuid.uuid4())
    async with TopicReader(broker, "case.backlog") as topic, running(app) as client:
        clock = app.state.runtime.clock
        for cid in (rep, old):
            await produce(
                broker,
                "case.routed",
                routed(
                    cid, to="339922-zrzy", to_name="x", supervising="339922-xfj", at=clock.now()
                ),
                key=cid.encode(),
            )
            await eventually(lambda cid=cid: case_of(client, cid), timeout=30)
        # the third arrival makes it a 积案; a later third arrival again adds nothing, the fourth does
        for count in (2, 3, 3, 4):
            await produce(broker, "case.linked", _linked(rep, count, clock.now()), key=rep.encode())
        await eventually(
            lambda: len(topic.events(type_="case.backlog", subject=rep)) >= 2, timeout=30
        )
        c = await case_of(client, rep)
        assert c is not None and c["backlog_reasons"] == ["重复信访3次", "重复信访4次"]
        await asyncio.sleep(1)  # nothing more comes
        events = topic.events(type_="case.backlog", subject=rep)
        assert [e["data"]["reason"] for e in events] == ["重复信访3次", "重复信访4次"]
        assert {e["data"]["handling_unit_code"] for e in events} == {"339922-zrzy"}
        assert all(e["data"]["case_number"] == f"N-{rep[:8]}" for e in events)

        # open past the backlog period: one event, however often the sweep runs
        await clock.set_offset(timedelta(days=31))
        for _ in range(3):
            await client.post("/api/v1/sweep")
        [aged] = await eventually(
            lambda: topic.events(type_="case.backlog", subject=old), timeout=30
        )
        assert aged["data"]["reason"] == "超过30日未办结"
        assert local_date(datetime.fromisoformat(aged["data"]["marked_at"])) == local_date(
            clock.now()
        )
        await asyncio.sleep(1)
        assert len(topic.events(type_="case.backlog", subject=old)) == 1
        # the repeat case is open as long, but already a 积案: the sweep looks only at the others
        assert len(topic.events(type_="case.backlog", subject=rep)) == 2


async def _backlog(client: httpx.AsyncClient, cid: str) -> dict[str, Any] | None:
    c = await case_of(client, cid)
    return c if c and c["backlog"] else None


async def test_the_petitioner_sees_each_deadline_and_what_happens_next(
    broker: str, databases: Databases
) -> None:
    sup = await supervision(databases, broker)
    intake = intake_app(
        IntakeSettings(
            XF_INTAKE_DATABASE_URL=await databases.new("intake"),
            kafka_bootstrap_servers=broker,
            kafka_session_timeout_s=2,
        )
    )
    async with running(intake) as ic, running(sup) as sc:
        reg = (
            await ic.post(
                "/api/v1/petitions",
                json={
                    "channel": "letter",
                    "petitioners": [{"name": "王五", "phone": "13900000000"}],
                    "receiving_office_code": "339922",
                    "content": "反映村里修路占地未补偿的问题。",
                },
            )
        ).json()
        cid = reg["case_id"]
        now = datetime.now(UTC)
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="清河县自然资源和规划局",
                supervising="339922-xfj",
                at=now,
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(sc, cid), timeout=30)
        await act(sc, cid, "accept")

        async def status() -> dict[str, Any] | None:
            doc = (await ic.get(f"/api/v1/petitions/{reg['query_code']}")).json()
            return doc if doc["status"] == "accepted" else None

        doc = await eventually(status, timeout=30, what="accepted on the petitioner's page")
        assert doc["status_label"] == "已受理，办理中"
        labels = {d["label"]: d for d in doc["deadlines"]}
        assert labels["受理告知（书面告知是否受理）"]["status_label"] == "已完成"
        assert labels["办理答复（出具信访处理意见书）"]["status_label"] == "进行中"
        assert (
            doc["next_step"].startswith("清河县自然资源和规划局应于")
            and "出具信访处理意见书" in doc["next_step"]
        )


# Each row of the deadline table that supervision tracks, driven by the manual clock: the case is
# brought to the state where the limit runs, then the clock moves to 3 days before the due date
# (a yellow reminder for that deadline) and to the day after it (red: overdue and a 督办 order).
ROWS = {
    "acceptance_notice": [],
    "handling": ["accept"],
    "review_answer": ["accept", "reply", "request_review"],
    "rereview_answer": ["accept", "reply", "request_review", "answer_review", "request_rereview"],
}
BODIES: dict[str, dict[str, Any]] = {
    "reply": {"outcome": "予以支持", "facts": "f", "reasons": "r", "legal_basis": "l"},
    "answer_review": {"outcome": "维持"},
}


@pytest.mark.parametrize("kind", list(ROWS))
async def test_each_tracked_limit_reminds_then_goes_overdue_on_the_manual_clock(
    broker: str, databases: Databases, kind: str
) -> None:
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with (
        TopicReader(
            broker, "deadline.reminder", "deadline.overdue", "case.supervision_order"
        ) as topic,
        running(app) as client,
    ):
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(cid, to="339922-zrzy", to_name="x", supervising="339900-xfj", at=clock.now()),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        for action in ROWS[kind]:
            assert (await act(client, cid, action, **BODIES.get(action, {}))).status_code == 200, (
                action
            )
        c = await case_of(client, cid)
        [row] = [d for d in c["deadlines"] if d["kind"] == kind]  # type: ignore[index]
        assert row["status"] == "open"
        due, start = date.fromisoformat(row["due_date"]), local_date(clock.now())
        profile_days = app.state.supervision.context.profiles["national"][kind].days
        assert due >= start + timedelta(days=profile_days)  # the law's days, pushed past holidays

        await clock.set_offset(timedelta(days=(due - start).days - 3))
        reminder = await eventually(
            lambda: [
                e
                for e in topic.events(type_="deadline.reminder", subject=cid)
                if e["data"]["deadline_kind"] == kind
            ],
            timeout=30,
            what=f"{kind} reminder",
        )
        assert reminder[-1]["data"]["days_left"] == 3
        await clock.set_offset(timedelta(days=(due - start).days + 1))
        overdue = await eventually(
            lambda: [
                e
                for e in topic.events(type_="deadline.overdue", subject=cid)
                if e["data"]["deadline_kind"] == kind
            ],
            timeout=30,
            what=f"{kind} overdue",
        )
        assert overdue[0]["data"]["days_overdue"] == 1
        if row["unit_code"] == "339900-xfj":
            # the city's own review is overdue: nobody above it issues a 督办 order (never one
            # from the city to itself); the overdue notice reaches its leadership
            await client.post("/api/v1/sweep")
            assert not topic.events(type_="case.supervision_order", subject=cid)
            return
        [order] = await eventually(
            lambda: topic.events(type_="case.supervision_order", subject=cid), timeout=30
        )
        assert order["data"]["issued_by"] == "339900-xfj"  # the city assigned it and supervises it


async def test_an_item_for_manual_triage_has_the_a22_deadline_until_it_is_sent_on(
    broker: str, databases: Databases
) -> None:
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with running(app) as client:
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-xfj",
                to_name="清河县信访局",
                supervising="339922-xfj",
                at=clock.now(),
                manual=True,
                action="直接办理",
            ),
            key=cid.encode(),
        )
        c = await eventually(lambda: case_of(client, cid), timeout=30)
        [triage] = c["deadlines"]
        assert triage["kind"] == "triage" and triage["unit_code"] == "339922-xfj"
        assert date.fromisoformat(triage["due_date"]) >= local_date(clock.now()) + timedelta(
            days=15
        )
        # the office triages it by hand: 改派 to the competent department
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zjj",
                to_name="清河县住房和城乡建设局",
                supervising="339922-xfj",
                at=clock.now(),
                action="改派",
                hop=2,
            ),
            key=cid.encode(),
        )

        async def sent_on() -> dict[str, Any] | None:
            # the case page reads the case and its deadlines in two statements: on PostgreSQL
            # (read committed) one page can fall between the reroute's commit and show the new
            # deadlines with the old unit; wait for a page read after it
            c = await case_of(client, cid)
            return c if c and len(c["deadlines"]) == 2 and c["unit_code"] != "339922-xfj" else None

        c = await eventually(sent_on, timeout=30)
        kinds = {d["kind"]: d for d in c["deadlines"]}
        assert kinds["triage"]["status"] == "met"
        assert (
            kinds["acceptance_notice"]["status"] == "open"
            and kinds["acceptance_notice"]["unit_code"] == "339922-zjj"
        )
        assert c["unit_code"] == "339922-zjj"


async def test_each_step_only_for_the_roles_and_units_the_law_gives_it(
    broker: str, databases: Databases
) -> None:
    from xinfang_shared.auth.models import Role

    from tests.integration.test_scoping import bearer

    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with TopicReader(broker, "case.status_changed") as topic, running(app) as client:
        clock = app.state.runtime.clock
        settings = app.state.runtime.settings
        now = clock.now()

        def as_(username: str, role: Role, org_code: str) -> dict[str, str]:
            return bearer(settings, now, username, role, org_code)

        registrar = as_("qh.desk", Role.REGISTRAR, "339922")
        county_sup = as_("qh.duban", Role.SUPERVISOR, "339922")
        county_leader = as_("qh.leader", Role.LEADER, "339922")
        other_leader = as_("lj.leader", Role.LEADER, "339902")
        handler = as_("qh.zrzy", Role.HANDLER, "339922-zrzy")
        city_desk = as_("city.desk", Role.REGISTRAR, "339900")
        city_sup = as_("city.duban", Role.SUPERVISOR, "339900")
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="清河县自然资源和规划局",
                supervising="339922-xfj",
                at=now,
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)

        async def step(action: str, who: dict[str, str], **body: Any) -> httpx.Response:
            return await client.post(
                f"/api/v1/cases/{cid}/actions/{action}", json=body, headers=who
            )

        # a registrar (or a supervisor) cannot decline in the handling body's name
        for who in (registrar, county_sup):
            r = await step("decline", who, reason="不属于信访事项")
            assert r.status_code == 403, r.text
            assert "承办人" in r.json()["message"] and r.json()["message_en"]
        assert (await case_of(client, cid))["status"] == "routed"  # type: ignore[index]
        assert not [
            e for e in topic.events(subject=cid) if e["data"]["new_status"] == "not_accepted"
        ]
        assert (await step("accept", handler)).status_code == 200

        # the handler names no 包案领导 for itself; the level's supervisor or leader does
        r = await client.post(
            f"/api/v1/cases/{cid}/leader", json={"leader": "自己"}, headers=handler
        )
        assert r.status_code == 403
        r = await client.post(
            f"/api/v1/cases/{cid}/leader", json={"leader": "李副县长"}, headers=county_sup
        )
        assert r.status_code == 200 and r.json()["leader"] == "李副县长"

        # the handler asks for the extension; it cannot approve it, nor name an approver
        assert (await step("extend", handler, days=20, reason="需现场勘测")).status_code == 403
        r = await step("extend", handler, days=20, reason="需现场勘测", approver="张局长")
        assert r.status_code == 422
        r = await client.post(
            f"/api/v1/cases/{cid}/extension-request",
            json={"days": 20, "reason": "需现场勘测"},
            headers=handler,
        )
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "accepted" and r.json()["extension_requests"][0]["days"] == 20
        # a leader of another county is not a leader of this body
        assert (await step("extend", other_leader)).status_code == 404
        # the county's leader approves the pending request: the approver is that account
        r = await step("extend", county_leader)
        assert r.status_code == 200, r.text
        view = r.json()
        assert view["status"] == "extended" and view["extension_days"] == 20
        assert view["extension_requests"][0]["decided_by"] == "QH.LEADER（qh.leader）"
        assert "经QH.LEADER（qh.leader）批准延期20日" in view["history"][-1]["note"]

        reply = {"outcome": "予以支持", "facts": "f", "reasons": "r", "legal_basis": "l"}
        assert (await step("reply", county_sup, **reply)).status_code == 403
        assert (await step("reply", handler, **reply)).status_code == 200
        # the review is registered at the reviewing office's level (the city, above the county)
        # and answered there; the handler and the county cannot
        assert (await step("request_review", handler)).status_code == 403
        assert (await step("request_review", registrar)).status_code == 403
        assert (await step("request_review", city_desk)).status_code == 200
        assert (await step("answer_review", county_sup, outcome="维持")).status_code == 403
        assert (await step("answer_review", city_sup, outcome="维持")).status_code == 200


async def test_a_case_returned_to_its_petition_office_is_supervised_from_the_level_above(
    broker: str, databases: Databases
) -> None:
    # an objection (退回) gives the case back to the county petition bureau that sent it: the
    # 督办 order for its overdue deadline comes from the city's, never from itself to itself
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with TopicReader(broker, "case.supervision_order") as topic, running(app) as client:
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="清河县自然资源和规划局",
                supervising="339922-xfj",
                at=clock.now(),
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-xfj",
                to_name="清河县信访局",
                supervising="339922-xfj",
                at=clock.now(),
                action="退回",
                hop=2,
            ),
            key=cid.encode(),
        )

        async def returned() -> dict[str, Any] | None:
            c = await case_of(client, cid)
            return c if c and c["unit_code"] == "339922-xfj" else None

        c = await eventually(returned, timeout=30)
        [d] = c["deadlines"]
        assert d["unit_code"] == "339922-xfj" and d["supervisor_code"] == "339900-xfj"
        due = date.fromisoformat(d["due_date"])
        await clock.set_offset(timedelta(days=(due - local_date(clock.now())).days + 1))
        [order] = await eventually(
            lambda: topic.events(type_="case.supervision_order", subject=cid), timeout=30
        )
        assert order["data"]["issued_to"] == "339922-xfj"
        assert order["data"]["issued_by"] == "339900-xfj"
        c = await case_of(client, cid)
        assert all(o["issued_by"] != o["issued_to"] for o in c["orders"])  # type: ignore[index]


# Last in this module on purpose: two faust apps of one consumer group in one process (the
# test's two replicas) leave the group in a state where a third in-process app of that group
# cannot join for minutes. Real replicas are separate processes.
async def test_two_replicas_sweeping_together_send_each_notice_once(
    broker: str, databases: Databases
) -> None:
    url = await databases.new("supervision")
    settings = SupervisionSettings(
        XF_SUPERVISION_DATABASE_URL=url,
        XF_SWEEP_INTERVAL_S=0.05,
        kafka_bootstrap_servers=broker,
        kafka_session_timeout_s=2,
        clock_mode="manual",
    )
    a, b = create_app(settings), create_app(settings)
    ids = [str(uuid.uuid4()) for _ in range(20)]
    async with TopicReader(broker, "deadline.overdue") as topic, running(a) as ca, running(b) as cb:
        for cid in ids:
            await produce(
                broker,
                "case.routed",
                routed(
                    cid,
                    to="339922-zrzy",
                    to_name="x",
                    supervising="339922-xfj",
                    at=a.state.runtime.clock.now(),
                ),
                key=cid.encode(),
            )
        for cid in ids:
            await eventually(lambda cid=cid: case_of(ca, cid), timeout=30)
        for app in (a, b):
            await app.state.runtime.clock.set_offset(timedelta(days=40))
        await asyncio.gather(*(c.post("/api/v1/sweep") for c in (ca, cb, ca, cb)))
        await eventually(lambda: {e["subject"] for e in topic.events()} >= set(ids), timeout=30)
        await asyncio.sleep(1)
        # one notice per deadline: one event id. On one SQLite file the two replicas' relays
        # may both publish it (the relay does not hold the file's lock while it sends: at least
        # once on the wire); every consumer handles an event id once.
        counts = [len({e["id"] for e in topic.events(subject=cid)}) for cid in ids]
        assert counts == [1] * len(ids)
