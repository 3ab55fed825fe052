"""A known mix of read-model rows (``rpt_items``) for the reports API tests, written straight
into the reports database, and the figures they must give.

清河县 (339922), 2026 Q3 (2026-07-01..09-30): Q1–Q7 and X1 (received at 清河县, the matter in
临江区 湖塘村, handled by 临江区自然资源和规划局: both counties see it). Q0/Q8 lie just outside
the quarter. 2025 Q3 (the previous period): P1–P3. Backlog: B1 (resolved in the quarter), B2
(open), B3 (closed before it), B4 (listed after it), B5 (the 2025 Q3 backlog, resolved then).
临江区 (339902): L1, L2 and its backlog case L3. ``today`` moves two items' deadlines: Q4's
handling deadline and Q6's acceptance deadline lie ahead, Q3's handling deadline has passed.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert
from xinfang_reports.models import items
from xinfang_shared.timeutil import SHANGHAI

QH, LJ = "339922", "339902"
PLACES = {
    "339922101201": "东岗村",
    "339922101202": "西岗村",
    "339922102201": "柳树湾村",
    "339922102": "柳塘乡",
    "339922103201": "石门村",
    "339902001001": "滨江社区",
    "339902002201": "湖塘村",
}
HANDLERS = {
    "339922-zrzy": "清河县自然资源和规划局",
    "339922-rsj": "清河县人力资源和社会保障局",
    "339922-jw": "清河县纪委监委",
    "339922-xfj": "清河县信访局",
    "339922102": "柳塘乡人民政府",
    "339902-zrzy": "临江区自然资源和规划局",
    "339902-rsj": "临江区人力资源和社会保障局",
}
FORMULA = '=HYPERLINK("http://evil.example","点此")'


def D(text: str) -> date:
    return date.fromisoformat(text)


def row(name: str, received: str, **over: Any) -> dict[str, Any]:
    """A full row (every column, so that one INSERT takes them all) with the defaults of a
    letter received at 清河县 about 东岗村, handled by 清河县自然资源和规划局."""
    day = D(received)
    place = over.pop("place", "339922101201")
    handling = over.pop("handling", "339922-zrzy")
    receiving = over.pop("receiving", QH)
    base: dict[str, Any] = {
        "case_id": str(uuid.uuid4()),
        "case_number": f"{receiving}-{day.year}-{name}",
        "received_at": datetime.combine(day, time(10, 0), tzinfo=SHANGHAI),
        "received_date": day,
        "channel": "letter",
        "persons": 1,
        "collective": False,
        "anonymous": False,
        "informant_sealed": False,
        "petitioners": f"信访人{name}",
        "receiving_office_code": receiving,
        "receiving_office_name": "清河县信访局" if receiving == QH else "临江区信访局",
        "title": f"事项{name}",
        "summary": f"事项{name}的内容",
        "place_code": place,
        "place_name": PLACES.get(place) if place else None,
        "category": "land_compensation",
        "category_name": "征地补偿",
        "kind": "申诉求决",
        "skip_level": False,
        "legal_channel": False,
        "handling_code": handling,
        "handling_name": HANDLERS.get(handling) if handling else None,
        "supervising_code": f"{receiving}-xfj",
        "route_hop": 1,
        "repeat_match": None,
        "linked_case_number": None,
        "status": "registered",
        "status_label": "已登记",
        "status_at": None,
        "decided_at": None,
        "decided_date": None,
        "decision": None,
        "accept_due": None,
        "replied_at": None,
        "replied_date": None,
        "reply_due": None,
        "extended": False,
        "closed_at": None,
        "closed_date": None,
        "outcome": None,
        "overdue": False,
        "first_overdue_date": None,
        "supervised": False,
        "first_order_date": None,
        "escalations": 0,
        "leader": None,
        "backlog": False,
        "backlog_date": None,
        "backlog_reasons": None,
        "collective_alert": False,
    }
    for key in ("decided_date", "replied_date", "closed_date"):
        if key in over and over[key] is not None:
            stamp = key.replace("_date", "_at")
            over.setdefault(stamp, datetime.combine(over[key], time(9, 0), tzinfo=SHANGHAI))
    if over.get("decided_date") and "decision" not in over:
        over["decision"] = "accepted"
    unknown = set(over) - set(base)
    assert not unknown, unknown
    return {**base, **over}


def accepted(decided: str, due: str, **over: Any) -> dict[str, Any]:
    return {"decided_date": D(decided), "accept_due": D(due), **over}


def rows(today: date) -> dict[str, dict[str, Any]]:
    soon, past = today + timedelta(days=30), today - timedelta(days=1)
    r = {
        "Q1": row(
            "Q1",
            "2026-07-03",
            summary=FORMULA,
            **accepted("2026-07-10", "2026-07-18"),
            reply_due=D("2026-09-01"),
            replied_date=D("2026-08-20"),
            closed_date=D("2026-08-25"),
            status_label="已办结",
            outcome="已补发补偿款",
        ),
        "Q2": row(
            "Q2",
            "2026-07-05",
            channel="visit",
            persons=7,
            collective=True,
            place="339922102201",
            handling="339922102",
            **accepted("2026-07-25", "2026-07-20"),
            reply_due=D("2026-08-30"),
            replied_date=D("2026-09-05"),
            overdue=True,
            supervised=True,
            escalations=1,
        ),
        "Q3": row(
            "Q3",
            "2026-07-08",
            channel="visit",
            persons=2,
            repeat_match="重复信访",
            **accepted("2026-07-10", "2026-07-23"),
            reply_due=past,
            overdue=True,
        ),
        "Q4": row(
            "Q4",
            "2026-08-01",
            channel="phone",
            place="339922103201",
            handling="339922-rsj",
            category="wages",
            category_name="拖欠工资",
            repeat_match="一信多投",
            **accepted("2026-08-05", "2026-08-16"),
            reply_due=soon,
        ),
        "Q5": row(
            "Q5",
            "2026-08-10",
            channel="online",
            kind="检举控告",
            informant_sealed=True,
            petitioners=None,
            place=None,
            handling="339922-jw",
            category="discipline",
            category_name="违纪违法",
            accept_due=D("2026-08-25"),
        ),
        "Q6": row(
            "Q6",
            "2026-09-15",
            channel="leader_mailbox",
            kind="建议意见",
            anonymous=True,
            petitioners=None,
            place="339922102",
            handling=None,
            category=None,
            category_name=None,
            accept_due=today + timedelta(days=10),
        ),
        "Q7": row(
            "Q7",
            "2026-09-30",
            channel="visit",
            place="339922101202",
            handling="339922-xfj",
            skip_level=True,
            **accepted("2026-10-05", "2026-10-15", decision="not_accepted"),
        ),
        "X1": row(
            "X1",
            "2026-07-20",
            place="339902002201",
            handling="339902-zrzy",
            accept_due=D("2026-08-04"),
        ),
        "Q0": row("Q0", "2026-06-30"),
        "Q8": row("Q8", "2026-10-01"),
        "P1": row(
            "P1",
            "2025-07-15",
            **accepted("2025-07-20", "2025-07-30"),
            reply_due=D("2025-09-01"),
            replied_date=D("2025-08-28"),
        ),
        "P2": row(
            "P2",
            "2025-08-20",
            channel="visit",
            persons=3,
            repeat_match="重复信访",
            place="339922102201",
            accept_due=D("2025-09-04"),
        ),
        "P3": row("P3", "2025-09-30", channel="phone", place=None),
        "B1": row(
            "B1",
            "2025-03-10",
            backlog=True,
            backlog_date=D("2026-05-01"),
            backlog_reasons="超期未办结；重复信访",
            closed_date=D("2026-08-15"),
            leader="王副县长",
            escalations=2,
            supervised=True,
            status_label="已办结",
        ),
        "B2": row("B2", "2025-11-02", backlog=True, backlog_date=D("2026-08-01")),
        "B3": row(
            "B3",
            "2025-01-01",
            backlog=True,
            backlog_date=D("2026-02-01"),
            closed_date=D("2026-06-01"),
        ),
        "B4": row("B4", "2025-12-01", backlog=True, backlog_date=D("2026-10-10")),
        "B5": row(
            "B5",
            "2024-12-01",
            backlog=True,
            backlog_date=D("2025-06-01"),
            closed_date=D("2025-08-01"),
        ),
        "L1": row(
            "L1",
            "2026-07-04",
            receiving=LJ,
            place="339902001001",
            handling="339902-zrzy",
            **accepted("2026-07-06", "2026-07-19"),
        ),
        "L2": row(
            "L2",
            "2026-08-08",
            receiving=LJ,
            channel="visit",
            persons=5,
            collective=True,
            place="339902002201",
            handling="339902-rsj",
            overdue=True,
            supervised=True,
        ),
        "L3": row(
            "L3",
            "2025-05-05",
            receiving=LJ,
            place="339902001001",
            handling="339902-zrzy",
            backlog=True,
            backlog_date=D("2026-07-01"),
        ),
    }
    return r


async def seed(app: FastAPI, today: date) -> dict[str, dict[str, Any]]:
    """Write every row; the rows by name."""
    data = rows(today)
    async with app.state.reports.runtime.sessions() as session, session.begin():
        await session.execute(insert(items), list(data.values()))
    return data


# 清河县's figures for 2026 Q3 (value, previous)
QINGHE_Q3: dict[str, tuple[Any, Any]] = {
    "items": (8, 3),
    "letters": (2, 1),
    "visits": (3, 1),
    "visit_persons": (10, 3),
    "phone": (1, 1),
    "online": (1, 0),
    "leader_mailbox": (1, 0),
    "first_time": (6, 2),
    "repeat": (1, 1),
    "multi_sent": (1, 0),
    "repeat_rate": (12.5, 33.3),
    "collective": (1, 0),
    "collective_visits": (1, 0),
    "collective_persons": (7, 0),
    "skip_level": (1, 0),
    "accepted": (4, 1),
    "not_accepted": (1, 0),
    "accept_assessable": (7, 2),
    "accept_timely": (4, 1),
    "accept_timely_rate": (57.1, 50.0),
    "reply_assessable": (3, 1),
    "reply_ontime": (1, 1),
    "replied": (2, 1),
    "reply_ontime_rate": (33.3, 100.0),
    "overdue": (2, 0),
    "supervised": (1, 0),
    "escalated": (1, 0),
    "backlog_total": (2, 1),
    "backlog_resolved": (1, 1),
    "backlog_rate": (50.0, 100.0),
    "rated": (None, None),
    "satisfied": (None, None),
    "rated_rate": (None, None),
    "satisfied_rate": (None, None),
}
