"""Synthetic whole lifecycles as the events the services publish, for benchmarks of what is
built from the topics (the reporting read model). Not for tests' expectations.

Each lifecycle is an item registered on a day of the chosen years, routed to a body of the demo
tree, and (mostly) accepted, replied to and closed; some are repeats, some go overdue and get
a 督办 order, some enter the 积案 backlog. The events are CloudEvents envelopes as JSON bytes,
exactly as they lie on the topics, produced topic by topic in the order a rebuild reads them
(see :func:`events_by_topic`). Built from dicts (pydantic would take longer to build them than
the read model takes to consume them); :func:`check_sample` validates a sample against the
real schemas so the bytes stay honest.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from xinfang_shared import events, org
from xinfang_shared.org import DepartmentKind, Level, OrgTree

CHANNELS = (("letter", 30), ("visit", 25), ("phone", 15), ("online", 25), ("leader_mailbox", 5))
CATEGORIES = (
    ("land_requisition", "土地征收补偿", "申诉求决"),
    ("wage_arrears", "拖欠农民工工资", "申诉求决"),
    ("social_insurance", "社会保险", "申诉求决"),
    ("housing", "住房保障", "申诉求决"),
    ("village_affairs", "村务管理", "申诉求决"),
    ("cadre_conduct", "干部作风", "检举控告"),
    ("traffic_safety", "交通安全建议", "建议意见"),
    ("environment", "环境保护", "申诉求决"),
)


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    office: str  # the county's petition office (receives and supervises)
    office_name: str
    bodies: tuple[tuple[str, str], ...]  # the county's departments and the township government


def places(tree: OrgTree | None = None) -> tuple[Place, ...]:
    """Every village of the tree, with the bodies of its county and township."""
    tree = tree or org.default_tree()
    out = []
    for unit in tree.units.values():
        if unit.level is not Level.VILLAGE:
            continue
        county = tree.at_level(unit.code, Level.COUNTY)
        office = tree.petition_office(county.code) if county else None
        if county is None or office is None:
            continue
        bodies = [
            (d.code, d.name)
            for u in (county.code, unit.parent or "")
            for d in tree.departments_of(u)
            if d.kind is not DepartmentKind.PETITION_OFFICE
        ]
        out.append(Place(unit.code, unit.name, office.code, office.name, tuple(bodies)))
    return tuple(out)


SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "建国秀英志强桂兰海燕明华国庆晓东丽娟春梅德胜玉珍永红小军文斌"
TOPICS = (
    events.PetitionReceived.TOPIC,
    events.CaseRouted.TOPIC,
    events.CaseLinked.TOPIC,
    events.CaseStatusChanged.TOPIC,
    events.DeadlineOverdue.TOPIC,
    events.SupervisionOrderIssued.TOPIC,
    events.CaseEscalated.TOPIC,
    events.CaseLeaderNamed.TOPIC,
    "case.backlog",
    events.CollectiveAlert.TOPIC,
)


@dataclass(frozen=True)
class Mix:
    """The shares of a lifecycle's outcomes (each drawn independently per lifecycle)."""

    repeat: float = 0.10
    accepted: float = 0.92  # else 不予受理
    accept_late: float = 0.04
    replied: float = 0.90  # of the accepted, by now
    reply_late: float = 0.06
    overdue_order: float = 0.05  # an open deadline missed: overdue + 督办
    backlog: float = 0.015


def _envelope(event_type: str, case_id: str, at: datetime, data: dict[str, object]) -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "bench",
            "type": event_type,
            "subject": case_id,
            "time": at.isoformat(),
            "datacontenttype": "application/json",
            "dataschema": events.dataschema_for(event_type, 1),
            "schemaversion": 1,
            "data": data,
        },
        ensure_ascii=False,
    ).encode()


def _weighted(rng: random.Random, pairs: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def lifecycle(
    rng: random.Random, i: int, *, start: date, days: int, mix: Mix, where: tuple[Place, ...]
) -> dict[str, list[bytes]]:
    """The events of lifecycle ``i``, by topic."""
    out: dict[str, list[bytes]] = {}

    def emit(topic: str, event_type: str, at: datetime, data: dict[str, object]) -> None:
        out.setdefault(topic, []).append(_envelope(event_type, case_id, at, data))

    case_id = str(uuid.UUID(int=rng.getrandbits(128)))
    number = f"339900-{start.year + i % 2}-{i:07d}"
    day = start + timedelta(days=rng.randrange(days))
    at = datetime(day.year, day.month, day.day, 1 + rng.randrange(9), rng.randrange(60), tzinfo=UTC)
    channel = _weighted(rng, CHANNELS)
    persons = rng.choice((1, 1, 1, 1, 2, 3, 5, 7, 12)) if channel == "visit" else 1
    code, name, kind = rng.choice(CATEGORIES)
    at_place = rng.choice(where)
    place, place_name = at_place.code, at_place.name
    office, office_name = at_place.office, at_place.office_name
    unit, unit_name = rng.choice(at_place.bodies)
    pid = rng.randrange(200_000)
    who = SURNAMES[pid % len(SURNAMES)] + GIVEN[(pid * 7) % 20 : (pid * 7) % 20 + 2]
    emit(
        "petition.received",
        "petition.received",
        at,
        {
            "case_id": case_id,
            "case_number": number,
            "channel": channel,
            "received_at": at.isoformat(),
            "receiving_office_code": office,
            "receiving_office_name": office_name,
            "anonymous": False,
            "petitioners": [{"name": who, "id_hash": f"h{pid}"}],
            "persons": persons,
            "matter_location_code": place,
            "title": f"{name}问题",
            "content": f"反映{place_name}{name}问题，请求依法处理。",
            "collective": persons >= 5,
        },
    )
    routed = at + timedelta(minutes=1)
    emit(
        "case.routed",
        "case.routed",
        routed,
        {
            "case_id": case_id,
            "case_number": number,
            "hop": 1,
            "action": "转送",
            "from_unit_code": office,
            "from_unit_name": office_name,
            "to_unit_code": unit,
            "to_unit_name": unit_name,
            "reason": "属地管理、谁主管谁负责",
            "routed_at": routed.isoformat(),
            "received_at": at.isoformat(),
            "supervising_code": office,
            "category": code,
            "category_name": name,
            "kind": kind,
            "place_code": place,
            "place_name": place_name,
            "petitioner_key": f"h{pid}",
        },
    )
    if persons >= 5 and channel == "visit":
        emit(
            "alert.collective",
            "alert.collective",
            routed,
            {
                "case_id": case_id,
                "case_number": number,
                "persons": persons,
                "threshold": 5,
                "receiving_office_code": office,
                "receiving_office_name": office_name,
                "summary": f"{persons}人集体访",
                "raised_at": routed.isoformat(),
            },
        )
    if rng.random() < mix.repeat:
        emit(
            "case.linked",
            "case.linked",
            routed,
            {
                "case_id": case_id,
                "case_number": number,
                "linked_case_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "linked_case_number": f"339900-{start.year}-{rng.randrange(max(i, 1)):07d}",
                "match": "重复信访",
                "similarity": 0.9,
                "repeat_count": 2,
                "receiving_office_code": office,
                "linked_at": routed.isoformat(),
            },
        )
    accept_due = day + timedelta(days=15)
    reply_due = day + timedelta(days=75)

    def status(old: str | None, new: str, when: datetime, note: str | None = None) -> None:
        emit(
            "case.status_changed",
            "case.status_changed",
            when,
            {
                "case_id": case_id,
                "case_number": number,
                "old_status": old,
                "new_status": new,
                "changed_at": when.isoformat(),
                "actor": "bench",
                "note": note,
                "deadlines": [
                    {
                        "kind": "acceptance_notice",
                        "label": "受理告知",
                        "due_date": accept_due.isoformat(),
                        "status": "open" if new == "routed" else "met",
                    },
                    {
                        "kind": "handling",
                        "label": "办理",
                        "due_date": reply_due.isoformat(),
                        "status": "met" if new in ("replied", "closed") else "open",
                    },
                ],
            },
        )

    status(None, "routed", routed)
    decided = routed + timedelta(days=rng.randint(16, 25) if rng.random() < mix.accept_late else 3)
    if rng.random() >= mix.accepted:
        status("routed", "not_accepted", decided, "不属于信访事项")
        return out
    status("routed", "accepted", decided)
    if rng.random() < mix.overdue_order:
        due = reply_due.isoformat()
        over = datetime(reply_due.year, reply_due.month, reply_due.day, tzinfo=UTC) + timedelta(1)
        common = {"case_id": case_id, "case_number": number}
        emit(
            "deadline.overdue",
            "deadline.overdue",
            over,
            {
                **common,
                "deadline_id": f"{case_id}-handling",
                "deadline_kind": "handling",
                "deadline_label": "办理",
                "unit_code": unit,
                "unit_name": unit_name,
                "due_date": due,
                "days_left": -1,
                "days_overdue": 1,
            },
        )
        emit(
            "case.supervision_order",
            "case.supervision_order",
            over,
            {
                **common,
                "order_id": f"{case_id}-o1",
                "issued_by": office,
                "issued_by_name": office_name,
                "issued_to": unit,
                "issued_to_name": unit_name,
                "deadline_label": "办理",
                "due_date": due,
                "feedback_due": (reply_due + timedelta(days=10)).isoformat(),
                "issued_at": over.isoformat(),
            },
        )
        if rng.random() < mix.backlog / mix.overdue_order:
            emit(
                "case.backlog",
                "case.backlog",
                over,
                {**common, "reason": "超过90日未办结", "marked_at": over.isoformat()},
            )
            emit(
                "case.leader_named",
                "case.leader_named",
                over,
                {
                    **common,
                    "leader": "县委副书记",
                    "actor": "bench",
                    "named_at": over.isoformat(),
                },
            )
        return out
    if rng.random() >= mix.replied:
        return out
    late = rng.random() < mix.reply_late
    replied = decided + timedelta(days=rng.randint(76, 90) if late else rng.randint(10, 50))
    status("accepted", "replied", replied, "已出具处理意见：支持")
    status("replied", "closed", replied + timedelta(days=31))
    return out


def events_by_topic(
    n: int, *, seed: int = 17, start: date = date(2025, 1, 1), days: int = 700, mix: Mix = Mix()
) -> Iterator[tuple[str, list[bytes]]]:
    """Every topic's events for ``n`` lifecycles, one topic after the other (a rebuild reads
    partition by partition, so all of a topic's events come before the next topic's), in
    chunks of up to 10,000 lifecycles to bound memory."""
    where = places()
    for lo in range(0, n, 10_000):
        rng = random.Random(seed * 1_000_003 + lo)
        chunk: dict[str, list[bytes]] = {}
        for i in range(lo, min(n, lo + 10_000)):
            for topic, values in lifecycle(
                rng, i, start=start, days=days, mix=mix, where=where
            ).items():
                chunk.setdefault(topic, []).extend(values)
        for topic in TOPICS:
            if chunk.get(topic):
                yield topic, chunk[topic]


def check_sample(n: int = 200) -> int:
    """Decode and validate the events of ``n`` lifecycles against the real schemas; the count."""
    count = 0
    for _topic, values in events_by_topic(n):
        for raw in values:
            env = events.decode(raw)
            if env.type in events.EVENT_TYPES:
                env.payload()
            count += 1
    return count


def now_utc() -> datetime:
    return datetime.now(UTC)
