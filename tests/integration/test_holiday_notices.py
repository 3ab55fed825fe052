"""A year's holiday notice loaded by an administrator (issue #13 item 11): validated, audited,
in force for deadline computation (open deadlines it moves are recomputed), and a warning while
a year ahead has none."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from xinfang_shared.auth.models import Role
from xinfang_shared.workdays import statutory_holidays

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_scoping import bearer
from tests.integration.test_supervision import act, case_of, routed, supervision
from tests.kafka_helpers import produce


def notice_making_a_day_off(day: date) -> dict[str, Any]:
    """A notice for ``day``'s year: every statutory holiday, and ``day`` off too (调休)."""
    statutory = [(d, n) for d, n in statutory_holidays(day.year).items() if "补假" not in n]
    ranges = [{"name": n[:20], "start": d.isoformat(), "end": d.isoformat()} for d, n in statutory]
    ranges.append({"name": "调休", "start": day.isoformat(), "end": day.isoformat()})
    return {"document": f"国办发明电〔{day.year - 1}〕测试号", "holidays": ranges, "workdays": []}


async def test_a_loaded_notice_moves_open_deadlines_and_new_ones_and_is_for_the_top_admin_only(
    broker: str, databases: Databases
) -> None:
    app = await supervision(databases, broker)
    cid, later = str(uuid.uuid4()), str(uuid.uuid4())
    async with running(app) as client:
        clock = app.state.runtime.clock
        settings = app.state.runtime.settings
        now = clock.now()
        admin = bearer(settings, now, "city.admin", Role.ADMIN, "339900")
        county_admin = bearer(settings, now, "qh.admin", Role.ADMIN, "339922")
        handler = bearer(settings, now, "qh-zrzy", Role.HANDLER, "339922-zrzy")
        await produce(
            broker,
            "case.routed",
            routed(cid, to="339922-zrzy", to_name="x", supervising="339922-xfj", at=now),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        assert (await act(client, cid, "accept")).status_code == 200
        c = await case_of(client, cid)
        [handling] = [d for d in c["deadlines"] if d["kind"] == "handling"]  # type: ignore[index]
        due = date.fromisoformat(handling["due_date"])
        year = due.year

        # before: the year of the due date has only the computed calendar, and says so
        await client.post("/api/v1/sweep")
        ready = (await client.get("/readyz")).json()
        if app.state.supervision.context.calendar.source(year) == "rules":
            warned = ready["warnings"]["holiday_calendar"]
            assert year in [w["year"] for w in warned]
            listed = (await client.get("/api/v1/admin/holiday-notices", headers=admin)).json()
            assert year in [w["year"] for w in listed["warnings"]]

        body = notice_making_a_day_off(due)
        # only an administrator of the deployment's top unit: 403, nothing stored
        for who in (county_admin, handler, {}):
            r = await client.put(f"/api/v1/admin/holiday-notices/{year}", json=body, headers=who)
            assert r.status_code == 403 and r.json()["message"], r.text
        # a notice that drops a statutory holiday is refused with the reason, nothing stored
        bad = {**body, "holidays": body["holidays"][1:]}
        r = await client.put(f"/api/v1/admin/holiday-notices/{year}", json=bad, headers=admin)
        assert r.status_code == 422 and "缺少法定节假日" in r.json()["message"]
        r = await client.put(
            f"/api/v1/admin/holiday-notices/{year}",
            json={**body, "workdays": [due.isoformat()]},
            headers=admin,
        )
        assert r.status_code == 422
        assert app.state.supervision.context.calendar.source(year) != "notice"

        r = await client.put(f"/api/v1/admin/holiday-notices/{year}", json=body, headers=admin)
        assert r.status_code == 200, r.text
        [moved] = [m for m in r.json()["deadlines_moved"] if m["case_id"] == cid]
        assert moved["from"] == due.isoformat() and date.fromisoformat(moved["to"]) > due

        # the open deadline moved off the new day off, with a line in the case history
        c = await case_of(client, cid)
        [handling] = [d for d in c["deadlines"] if d["kind"] == "handling"]  # type: ignore[index]
        assert date.fromisoformat(handling["due_date"]) == date.fromisoformat(moved["to"])
        assert c["history"][-1]["action"] == "calendar"  # type: ignore[index]
        assert "放假安排通知" in c["history"][-1]["note"]  # type: ignore[index]

        # a deadline opened now under the notice ends after the day off too
        await produce(
            broker,
            "case.routed",
            routed(later, to="339922-zrzy", to_name="x", supervising="339922-xfj", at=now),
            key=later.encode(),
        )
        await eventually(lambda: case_of(client, later), timeout=30)
        assert (await act(client, later, "accept")).status_code == 200
        c = await case_of(client, later)
        [new] = [d for d in c["deadlines"] if d["kind"] == "handling"]  # type: ignore[index]
        assert date.fromisoformat(new["due_date"]) == date.fromisoformat(moved["to"])

        # audited: who loaded it, when, from which document; the year no longer warns
        listed = (await client.get("/api/v1/admin/holiday-notices", headers=admin)).json()
        [view] = [y for y in listed["years"] if y["year"] == year]
        assert view["source"] == "notice" and view["notice"]["loaded_by"].endswith("（city.admin）")
        assert view["notice"]["document"] == body["document"]
        assert year not in [w["year"] for w in listed["warnings"]]
        ready = (await client.get("/readyz")).json()
        assert year not in [
            w["year"] for w in ready.get("warnings", {}).get("holiday_calendar", [])
        ]
