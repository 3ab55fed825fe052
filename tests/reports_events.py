"""A realistic life of one item (件次) as the services publish it, for the reports tests: a
collective visit registered at the county, routed down to the township government, linked as
a repeat, accepted, extended, overdue, 督办, escalated twice, a 包案领导 named then changed, a
积案 for two reasons, replied and closed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from xinfang_shared.events import (
    CaseBacklogMarked,
    CaseEscalated,
    CaseLeaderNamed,
    CaseLinked,
    CaseRouted,
    CaseStatusChanged,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineSummary,
    Envelope,
    EventData,
    NotificationSent,
    PetitionerInfo,
    PetitionReceived,
    SupervisionOrderIssued,
    new_event,
)

# 2026-03-01 17:30 UTC is 2026-03-02 01:30 in Shanghai: the local date is the 2nd
T0 = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
ACCEPT_DUE = date(2026, 3, 17)
REPLY_DUE = date(2026, 5, 4)
EXTENDED_DUE = date(2026, 6, 3)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _deadlines(*kinds: tuple[str, date, str]) -> list[DeadlineSummary]:
    labels = {"acceptance_notice": "受理告知", "handling": "办理"}
    return [DeadlineSummary(kind=k, label=labels[k], due_date=d, status=s) for k, d, s in kinds]


def _status(case_id: str, number: str, old: str | None, new: str, when: datetime, **kw: Any) -> Any:
    return CaseStatusChanged(
        case_id=case_id,
        case_number=number,
        old_status=old,
        new_status=new,
        changed_at=when,
        actor="经办人",
        **kw,
    )


def _hop(case_id: str, number: str, hop: int, to: str, to_name: str, **kw: Any) -> CaseRouted:
    return CaseRouted(
        case_id=case_id,
        case_number=number,
        hop=hop,
        from_unit_code="339922",
        from_unit_name="清河县信访局",
        to_unit_code=to,
        to_unit_name=to_name,
        reason="属地管理",
        received_at=T0,
        **kw,
    )


def lifecycle(case_id: str, number: str = "339922-2026-000123") -> list[Envelope]:
    """The item's events, in the order they happened, each in its envelope."""
    place = {"place_code": "339922102201", "place_name": "柳塘村"}
    first = {
        "category": "village_affairs",
        "category_name": "村务管理",
        "kind": "申诉求决",
        "skip_level": True,
        "supervising_code": "339922-xfj",
        **place,
    }
    accepted = _deadlines(("acceptance_notice", ACCEPT_DUE, "met"), ("handling", REPLY_DUE, "open"))
    extended = _deadlines(
        ("acceptance_notice", ACCEPT_DUE, "met"), ("handling", EXTENDED_DUE, "open")
    )
    done = _deadlines(("acceptance_notice", ACCEPT_DUE, "met"), ("handling", EXTENDED_DUE, "met"))
    data: list[tuple[EventData, datetime]] = [
        (
            PetitionReceived(
                case_id=case_id,
                case_number=number,
                channel="visit",
                received_at=T0,
                receiving_office_code="339922",
                receiving_office_name="清河县信访局",
                anonymous=False,
                petitioners=[PetitionerInfo(name="张三"), PetitionerInfo(name="李四")],
                persons=6,
                collective=True,
                category="village_affairs",
                title="村道损坏无人维修",
                content="柳塘村村道损坏已逾半年，多次反映无人维修。" * 20,
            ),
            T0,
        ),
        (
            CollectiveAlert(
                case_id=case_id,
                case_number=number,
                persons=6,
                threshold=5,
                receiving_office_code="339922",
                receiving_office_name="清河县信访局",
                summary="集体访",
                raised_at=T0,
            ),
            T0,
        ),
        (
            _hop(
                case_id,
                number,
                1,
                "339922102",
                "柳塘乡",
                action="交办",
                routed_at=at(0.01),
                final=False,
                **first,
            ),
            at(0.01),
        ),
        (
            _hop(
                case_id,
                number,
                2,
                "339922102-zf",
                "柳塘乡人民政府",
                action="交办",
                routed_at=at(0.01),
                **first,
            ),
            at(0.01),
        ),
        (
            CaseLinked(
                case_id=case_id,
                case_number=number,
                linked_case_id="c-older",
                linked_case_number="339922-2025-000777",
                match="重复信访",
                similarity=0.91,
                repeat_count=2,
                receiving_office_code="339922",
                linked_at=at(0.02),
            ),
            at(0.02),
        ),
        (
            _status(
                case_id,
                number,
                None,
                "routed",
                at(0.03),
                status_label="已转送责任单位",
                deadlines=_deadlines(("acceptance_notice", ACCEPT_DUE, "open")),
            ),
            at(0.03),
        ),
        (
            # 改派: the supervisor sends it to the township's 城建办 (a later hop, no place)
            _hop(
                case_id,
                number,
                3,
                "339922102-cj",
                "柳塘乡城建办",
                action="改派",
                routed_at=at(1),
                category="village_affairs",
                supervising_code="339922-xfj",
            ),
            at(1),
        ),
        (
            _status(case_id, number, "routed", "accepted", at(3), deadlines=accepted),
            at(3),
        ),
        (
            CaseLeaderNamed(
                case_id=case_id, case_number=number, leader="王副乡长", actor="x", named_at=at(4)
            ),
            at(4),
        ),
        (
            _status(case_id, number, "accepted", "extended", at(30), deadlines=extended),
            at(30),
        ),
        (
            DeadlineOverdue(
                case_id=case_id,
                case_number=number,
                deadline_id="d-2",
                deadline_kind="handling",
                deadline_label="办理",
                unit_code="339922102-cj",
                unit_name="柳塘乡城建办",
                due_date=EXTENDED_DUE,
                days_left=-3,
                days_overdue=3,
            ),
            datetime(2026, 6, 6, 1, 0, tzinfo=UTC),
        ),
        (
            SupervisionOrderIssued(
                case_id=case_id,
                case_number=number,
                order_id="o-1",
                issued_by="339922-xfj",
                issued_by_name="清河县信访局",
                issued_to="339922102-cj",
                issued_to_name="柳塘乡城建办",
                deadline_label="办理",
                due_date=EXTENDED_DUE,
                feedback_due=date(2026, 6, 20),
                issued_at=datetime(2026, 6, 6, 1, 0, tzinfo=UTC),
            ),
            datetime(2026, 6, 6, 1, 0, tzinfo=UTC),
        ),
        *(
            (
                CaseEscalated(
                    case_id=case_id,
                    case_number=number,
                    from_unit_code="339922-xfj",
                    to_unit_code="339900-xfj",
                    reason="超期提级",
                    escalated_at=when,
                    escalation=n,
                ),
                when,
            )
            for n, when in ((1, at(102)), (2, at(107)))
        ),
        (
            CaseLeaderNamed(
                case_id=case_id, case_number=number, leader="李副县长", actor="x", named_at=at(103)
            ),
            at(103),
        ),
        *(
            (
                CaseBacklogMarked(
                    case_id=case_id,
                    case_number=number,
                    reason=reason,
                    marked_at=when,
                    handling_unit_code="339922102-cj",
                ),
                when,
            )
            for reason, when in (("提级督办2次", at(107)), ("超过90日未办结", at(108)))
        ),
        (
            _status(
                case_id,
                number,
                "extended",
                "replied",
                at(110),
                note="予以支持：村道已修复",
                deadlines=done,
            ),
            at(110),
        ),
        (
            _status(case_id, number, "replied", "closed", at(120), deadlines=done),
            at(120),
        ),
        (
            # not a case event the read model uses
            NotificationSent(
                notification_id="n-1",
                case_id=case_id,
                source_event_id="e",
                source_event_type="case.closed",
                channel="sms",
                recipient="x",
                title="t",
                sent_at=at(120),
            ),
            at(120),
        ),
    ]
    return [new_event(data=d, source="/tests", time=when) for d, when in data]
