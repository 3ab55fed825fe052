"""Domain events: what happened to a case, as :func:`xinfang_supervision.cases.domain.handle`
decides it. :func:`evolve` applies one to the in-memory case; the store writes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xinfang_supervision.cases.aggregate import Case, Deadline, ExtensionRequest, Order
from xinfang_supervision.lifecycle import State


@dataclass(frozen=True)
class CaseOpened:
    case: Case


@dataclass(frozen=True)
class StatusChanged:
    old: State
    new: State


@dataclass(frozen=True)
class Accepted:
    at: datetime


@dataclass(frozen=True)
class Replied:
    at: datetime
    outcome: str


@dataclass(frozen=True)
class ReviewAnswered:
    at: datetime


@dataclass(frozen=True)
class ExtensionRequested:
    request: ExtensionRequest


@dataclass(frozen=True)
class ExtensionGranted:
    days: int
    approver: str
    at: datetime
    request_id: int | None  # the pending request it decides, if any


@dataclass(frozen=True)
class HandlerChanged:
    unit_code: str
    unit_name: str
    supervising_code: str | None


@dataclass(frozen=True)
class DeadlineOpened:
    deadline: Deadline


@dataclass(frozen=True)
class DeadlineMet:
    kind: str
    at: datetime


@dataclass(frozen=True)
class DeadlineMoved:
    """A due date moved; ``stage_done`` None keeps the reminders already sent."""

    kind: str
    due_date: date
    next_check: date | None
    stage_done: int | None = None


@dataclass(frozen=True)
class DeadlineSynced:
    """This level's copy of another level's deadline says what the owner says."""

    kind: str
    status: str
    due_date: date
    at: datetime


@dataclass(frozen=True)
class OpenDeadlinesReassigned:
    unit_code: str
    unit_name: str
    supervisor_code: str | None


@dataclass(frozen=True)
class OpenDeadlinesSupervised:
    supervisor_code: str


@dataclass(frozen=True)
class EscalationsCounted:
    escalations: int


@dataclass(frozen=True)
class LeaderNamed:
    leader: str
    actor: str
    at: datetime
    publish: bool = True  # False: another level named it and published it
    username: str | None = None  # the leader's account, if the caller named one


@dataclass(frozen=True)
class PlaceKnown:
    """Where the matter is (a village or township), as the first routing found it."""

    code: str
    name: str | None


@dataclass(frozen=True)
class OrderIssued:
    order: Order


@dataclass(frozen=True)
class FeedbackGiven:
    order_id: str
    text: str
    actor: str
    at: datetime
    publish: bool = True


@dataclass(frozen=True)
class Noted:
    """A line in the case's history."""

    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    note: str
    at: datetime
    detail: dict[str, Any] | None = None


@dataclass(frozen=True)
class Summary:
    kind: str
    label: str
    due_date: date
    status: str


@dataclass(frozen=True)
class Announced:
    """Everyone is told (intake shows it to the petitioner) the state, deadlines and next step."""

    old_status: str | None
    new_status: State
    actor: str
    note: str
    next_step: str
    deadlines: tuple[Summary, ...]
    handling_unit_name: str
    at: datetime


Event = (
    CaseOpened
    | StatusChanged
    | Accepted
    | Replied
    | ReviewAnswered
    | ExtensionRequested
    | ExtensionGranted
    | HandlerChanged
    | DeadlineOpened
    | DeadlineMet
    | DeadlineMoved
    | DeadlineSynced
    | OpenDeadlinesReassigned
    | OpenDeadlinesSupervised
    | EscalationsCounted
    | LeaderNamed
    | PlaceKnown
    | OrderIssued
    | FeedbackGiven
    | Noted
    | Announced
)


def evolve(case: Case, event: Event) -> None:
    """Apply one event to the in-memory case (what the store does to the rows)."""
    match event:
        case StatusChanged(new=new):
            case.status = new
        case Accepted(at=at):
            case.accepted_at = at
        case Replied(at=at, outcome=outcome):
            case.replied_at, case.reply_outcome = at, outcome
        case ReviewAnswered(at=at):
            case.review_answered_at = at
        case ExtensionRequested(request=request):
            case.pending_extension = request
        case ExtensionGranted(days=days):
            case.extension_days, case.pending_extension = days, None
        case HandlerChanged():
            case.unit_code, case.unit_name = event.unit_code, event.unit_name
            case.supervising_code = event.supervising_code
        case DeadlineOpened(deadline=d):
            case.deadlines.append(d)
        case DeadlineMet(kind=kind, at=at):
            for d in case.deadlines:
                if d.kind == kind and d.status == "open":
                    d.status, d.met_at, d.next_check = "met", at, None
        case DeadlineMoved(kind=kind):
            for d in case.deadlines:
                if d.kind == kind:
                    d.due_date, d.next_check = event.due_date, event.next_check
                    if event.stage_done is not None:
                        d.stage_done = event.stage_done
        case DeadlineSynced(kind=kind):
            for d in case.deadlines:
                if d.kind == kind:
                    d.status, d.due_date, d.next_check = event.status, event.due_date, None
        case OpenDeadlinesReassigned():
            for d in case.deadlines:
                if d.status == "open":
                    d.unit_code, d.unit_name = event.unit_code, event.unit_name
                    d.supervisor_code = event.supervisor_code
        case OpenDeadlinesSupervised(supervisor_code=code):
            for d in case.deadlines:
                if d.status == "open":
                    d.supervisor_code = code
        case EscalationsCounted(escalations=n):
            case.escalations = n
        case LeaderNamed(leader=leader):
            case.leader, case.leader_username = leader, event.username
        case PlaceKnown(code=code, name=name):
            case.place_code, case.place_name = code, name
        case OrderIssued(order=order):
            case.orders.append(order)
        case FeedbackGiven(order_id=order_id):
            for o in case.orders:
                if o.id == order_id and o.feedback_at is None:
                    o.feedback_at, o.feedback = event.at, event.text
        case CaseOpened() | Noted() | Announced():
            pass
