"""群体性苗头 and repeat waves, detected by supervision on the real broker.

Each test uses its own matter (category) so that the windowed table, whose changelog lives on
the session's broker, does not carry counts from one test into another.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from xinfang_shared.events import CaseLinked, CaseRouted, new_event

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_supervision import routed, supervision
from tests.kafka_helpers import TopicReader, produce

VILLAGE, OTHER_VILLAGE = "339902001001", "339902001002"  # 滨江社区, 江岸社区 (滨江街道)


def item(case_id: str, *, place: str, category: str, petitioner: str | None, at: datetime) -> bytes:
    data = CaseRouted(
        case_id=case_id,
        case_number=f"N-{case_id[:8]}",
        hop=1,
        action="转送",
        from_unit_code="339902-xfj",
        from_unit_name="临江区信访局",
        to_unit_code="339902-zrzy",
        to_unit_name="临江区自然资源局",
        reason="test",
        routed_at=at,
        received_at=at,
        final=True,
        supervising_code="339902-xfj",
        category=category,
        category_name="征地拆迁补偿",
        place_code=place,
        place_name="滨江社区",
        petitioner_key=petitioner,
    )
    return new_event(data=data, source="/test/routing", time=at).to_bytes()


async def send(broker: str, case_id: str, value: bytes) -> None:
    await produce(broker, "case.routed", value, key=case_id.encode())


def alerts_for(reader: TopicReader, category: str) -> list[dict[str, Any]]:
    return [e for e in reader.events(type_="alert.emerging") if e["data"]["category"] == category]


async def test_six_items_from_one_village_raise_exactly_one_emerging_alert(
    broker: str, databases: Databases
) -> None:
    category = f"land_{uuid.uuid4().hex[:8]}"
    app = await supervision(databases, broker)
    async with running(app) as client, TopicReader(broker, "alert.emerging") as reader:
        now = app.state.runtime.clock.now()
        # four distinct petitioners, one of them twice: 5 items, 4 petitioners: no alert yet
        people = ["p1", "p2", "p3", "p4", "p2"]
        ids = [str(uuid.uuid4()) for _ in people]
        for i, (cid, who) in enumerate(zip(ids, people, strict=True)):
            at = now + timedelta(minutes=5 * i)
            await send(
                broker, cid, item(cid, place=VILLAGE, category=category, petitioner=who, at=at)
            )
        # the same matter in the neighbouring village and anonymous items elsewhere do not count
        other = str(uuid.uuid4())
        await send(
            broker,
            other,
            item(other, place=OTHER_VILLAGE, category=category, petitioner="p9", at=now),
        )
        await eventually(lambda: _cases_opened(client, [*ids, other]), timeout=30)
        assert alerts_for(reader, category) == []

        fifth = str(uuid.uuid4())
        at = now + timedelta(minutes=40)
        await send(
            broker, fifth, item(fifth, place=VILLAGE, category=category, petitioner="p5", at=at)
        )
        alert = (await eventually(lambda: alerts_for(reader, category), timeout=30))[0]
        data = alert["data"]
        assert data["petitioners"] == 5 and data["threshold"] == 5
        assert data["place_code"] == VILLAGE and data["office_code"] == "339902001-xfb"
        assert {m["case_id"] for m in data["members"]} >= {fifth, ids[0]}
        assert other not in {m["case_id"] for m in data["members"]}

        # more items of the same matter in the window join the alert: no storm
        late = str(uuid.uuid4())
        await send(
            broker,
            late,
            item(
                late,
                place=VILLAGE,
                category=category,
                petitioner="p6",
                at=at + timedelta(minutes=10),
            ),
        )
        rows = await eventually(lambda: _alert_with(client, category, late), timeout=30)
        assert rows["petitioners"] == 6
        # a redelivered feed item changes nothing either
        await send(
            broker, fifth, item(fifth, place=VILLAGE, category=category, petitioner="p5", at=at)
        )
        await eventually(lambda: _cases_opened(client, [late]), timeout=30)
        assert len(alerts_for(reader, category)) == 1
        listed = [
            a
            for a in (await client.get("/api/v1/alerts/emerging")).json()
            if a["category"] == category
        ]
        assert len(listed) == 1


async def test_the_same_matter_a_window_later_raises_a_new_alert_even_out_of_order(
    broker: str, databases: Databases
) -> None:
    category = f"land_{uuid.uuid4().hex[:8]}"
    app = await supervision(databases, broker, XF_EMERGING_THRESHOLD=2, XF_EMERGING_WINDOW_H=2)
    async with running(app), TopicReader(broker, "alert.emerging") as reader:
        now = app.state.runtime.clock.now()
        # the later pair reaches the detector first: cases open in whatever order their
        # partitions are read, so the feed is not in time order
        for hours, who in ((5, "c"), (5.5, "d"), (0, "a"), (0.5, "b")):
            cid = str(uuid.uuid4())
            at = now + timedelta(hours=hours)
            await send(
                broker, cid, item(cid, place=VILLAGE, category=category, petitioner=who, at=at)
            )
        detector = app.state.supervision.detector
        try:
            found = await eventually(
                lambda: (a := alerts_for(reader, category)) and len(a) >= 2 and a, timeout=60
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; detector saw {detector.items} items") from exc
        assert len(found) == 2
        first, second = sorted(found, key=lambda a: a["data"]["window_start"])
        assert second["data"]["window_start"] >= first["data"]["window_end"]
        assert first["data"]["petitioners"] == second["data"]["petitioners"] == 2


async def _cases_opened(client: Any, ids: list[str]) -> bool:
    for cid in ids:
        if (await client.get(f"/api/v1/cases/{cid}")).status_code != 200:
            return False
    return True


async def _alert_with(client: Any, category: str, case_id: str) -> dict[str, Any] | None:
    for a in (await client.get("/api/v1/alerts/emerging")).json():
        if a["category"] == category and case_id in {m["case_id"] for m in a["members"]}:
            return a
    return None


async def test_a_case_coming_back_three_times_in_a_week_raises_one_repeat_wave(
    broker: str, databases: Databases
) -> None:
    app = await supervision(databases, broker)
    original = str(uuid.uuid4())
    async with running(app) as client, TopicReader(broker, "alert.repeat_wave") as reader:
        clock = app.state.runtime.clock
        await produce(
            broker,
            "case.routed",
            routed(
                original,
                to="339922-zrzy",
                to_name="清河县自然资源局",
                supervising="339922-xfj",
                at=clock.now(),
            ),
            key=original.encode(),
        )
        await eventually(lambda: _cases_opened(client, [original]), timeout=30)

        async def repeat(n: int, days: float) -> None:
            at = clock.now() + timedelta(days=days)
            linked = CaseLinked(
                case_id=str(uuid.uuid4()),
                case_number=f"R-{n}",
                linked_case_id=original,
                linked_case_number=f"N-{original[:8]}",
                match="重复信访",
                similarity=0.4,
                repeat_count=n + 1,
                receiving_office_code="339922",
                holder_code="339922-zrzy",
                linked_at=at,
            )
            await produce(
                broker,
                "case.linked",
                new_event(data=linked, source="/t", time=at).to_bytes(),
                key=original.encode(),
            )

        # two repeats, then a third 10 days later: never 3 within 7 days
        await repeat(1, 0)
        await repeat(2, 1)
        await repeat(3, 10)
        await repeat(4, 11)  # 3 and 4 within the week, plus...
        c = await eventually(lambda: _repeats(client, original, 5), timeout=30)
        assert c and reader.events(type_="alert.repeat_wave", subject=original) == []
        await repeat(5, 12)  # ...5: three arrivals within 7 days
        await repeat(6, 12.5)  # a fourth in the same wave: no second alert
        await eventually(lambda: _repeats(client, original, 7), timeout=30)
        waves = await eventually(
            lambda: reader.events(type_="alert.repeat_wave", subject=original), timeout=30
        )
        assert len(waves) == 1
        assert waves[0]["data"]["arrivals"] == 3 and waves[0]["data"]["latest_case_number"] == "R-5"


async def _repeats(client: Any, cid: str, n: int) -> bool:
    r = await client.get(f"/api/v1/cases/{cid}")
    return r.status_code == 200 and r.json().get("repeat_count") == n
