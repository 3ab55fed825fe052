from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

from xinfang_notify.notifications.hub import Hub
from xinfang_notify.notifications.messages import Message, compose
from xinfang_notify.notifications.render import Renderer
from xinfang_shared.events import (
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
)
from xinfang_shared.org import default_tree

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TREE = default_tree()
RENDER = Renderer()


def text(m: Message) -> tuple[str, str]:
    title, body = RENDER.render(m.kind, {**m.ctx, "link": "http://x/"})
    return ("【包案】" + title if m.copy else title), body


def deadline(**kw: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        case_id="c-1",
        case_number="339922-2026-000001",
        deadline_id="d-1",
        deadline_kind="acceptance_notice",
        deadline_label="受理告知",
        unit_code="339922:xf",
        unit_name="清河县信访局",
        due_date=date(2026, 3, 16),
    )
    base.update(kw)
    return base


def test_reminder_message_is_chinese_with_case_deadline_and_days_left() -> None:
    [m] = compose(DeadlineReminder.model_validate(deadline(days_left=3, days_before=3)), TREE)
    assert m.recipient == "339922:xf" and m.level == "yellow"
    title, body = text(m)
    assert "339922-2026-000001" in title and "还剩3天" in title
    assert "2026年03月16日" in body


def test_overdue_message_is_red() -> None:
    [m] = compose(DeadlineOverdue.model_validate(deadline(days_left=-2, days_overdue=2)), TREE)
    title, _ = text(m)
    assert m.level == "red" and "超期" in title and "2天" in title


def test_collective_alert_goes_to_leadership_the_place_and_the_level_above() -> None:
    msgs = compose(
        CollectiveAlert(
            case_id="c",
            case_number="n",
            persons=7,
            threshold=5,
            receiving_office_code="339922",
            receiving_office_name="清河县信访局",
            matter_location_code="339922101201",  # a village of 清河镇
            summary="征地补偿",
            raised_at=NOW,
        ),
        TREE,
    )
    assert [m.recipient for m in msgs] == [
        "339922:leaders",  # the receiving office's leadership
        "339922-xfj",  # its duty desk
        "339922101:leaders",  # the township answerable for the place
        "339922101-xfb",
        "339900:leaders",  # the level above
    ]
    assert all(m.level == "urgent" for m in msgs)
    title, body = text(msgs[0])
    assert "7人" in title and "清河镇" in body and "1小时内签收" in body


async def test_hub_fans_out_and_drops_slow_clients() -> None:
    hub = Hub(queue_size=2)
    fast, slow = hub.subscribe(), hub.subscribe()
    hub.publish({"seq": 1})
    assert (await fast.queue.get())["seq"] == 1
    hub.publish({"seq": 2})
    hub.publish({"seq": 3})  # slow now holds 1,2: full
    assert slow.dropped and hub.clients == 1
    assert not fast.dropped
    await asyncio.sleep(0)


def test_the_leader_in_charge_gets_every_reminder_and_escalation() -> None:
    from xinfang_shared.events import CaseEscalated, SupervisionOrderIssued

    msgs = compose(
        DeadlineReminder.model_validate(deadline(days_left=3, days_before=3, leader="李副县长")),
        TREE,
    )
    assert [m.recipient for m in msgs] == ["339922:xf", "leader:李副县长"]
    assert text(msgs[1])[0].startswith("【包案】催办")
    esc = CaseEscalated(
        case_id="c",
        case_number="n",
        from_unit_code="339922-xfj",
        to_unit_code="339900-xfj",
        to_unit_name="江临市信访局",
        handling_unit_code="339922102-zf",
        handling_unit_name="柳塘乡人民政府",
        reason="超期",
        escalated_at=NOW,
        leader="李副县长",
    )
    assert {m.recipient for m in compose(esc, TREE)} == {
        "339900-xfj",
        "339922102-zf",
        "leader:李副县长",
    }
    order = SupervisionOrderIssued(
        case_id="c",
        case_number="n",
        order_id="o",
        issued_by="339922-xfj",
        issued_by_name="清河县信访局",
        issued_to="339922102-zf",
        issued_to_name="柳塘乡人民政府",
        deadline_label="受理告知",
        due_date=date(2026, 3, 16),
        feedback_due=date(2026, 4, 16),
        issued_at=NOW,
    )
    [to_unit, to_issuer] = compose(order, TREE)
    assert to_issuer.recipient == "339922-xfj"
    assert to_unit.recipient == "339922102-zf" and "2026年04月16日前书面反馈" in text(to_unit)[1]
