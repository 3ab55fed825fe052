"""What a person (or another service, or another level's system) asks of a case: one frozen
dataclass per request. :func:`xinfang_supervision.cases.domain.handle` decides each one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from xinfang_shared.workdays import WorkCalendar

from xinfang_supervision.lifecycle import Action


@dataclass(frozen=True)
class Accept:
    """受理 (A23): the handling body tells the petitioner in writing it takes the matter."""

    actor: str
    action = Action.ACCEPT


@dataclass(frozen=True)
class Decline:
    """不予受理 (A23): with the reason, told to the petitioner in writing."""

    actor: str
    reason: str
    action = Action.DECLINE


@dataclass(frozen=True)
class Extend:
    """延期 (A34), approved by a leader of the body: ``actor`` is the approver. Days and reason
    not given are those of the handler's pending request."""

    actor: str
    days: int | None = None
    reason: str | None = None
    action = Action.EXTEND


@dataclass(frozen=True)
class Reply:
    """信访处理意见书 (A34): the outcome, the facts found, the reasons and the legal basis."""

    actor: str
    outcome: str
    facts: str
    reasons: str
    legal_basis: str
    action = Action.REPLY


@dataclass(frozen=True)
class Close:
    """办结."""

    actor: str
    action = Action.CLOSE


@dataclass(frozen=True)
class RequestReview:
    """复查申请 (A35), within the window after the reply."""

    actor: str
    action = Action.REQUEST_REVIEW


@dataclass(frozen=True)
class AnswerReview:
    """复查意见."""

    actor: str
    outcome: str
    action = Action.ANSWER_REVIEW


@dataclass(frozen=True)
class RequestRereview:
    """复核申请 (A36), within the window after the review's answer."""

    actor: str
    action = Action.REQUEST_REREVIEW


@dataclass(frozen=True)
class AnswerRereview:
    """复核意见: final (终结)."""

    actor: str
    outcome: str
    action = Action.ANSWER_REREVIEW


LifecycleCommand = (
    Accept
    | Decline
    | Extend
    | Reply
    | Close
    | RequestReview
    | AnswerReview
    | RequestRereview
    | AnswerRereview
)


@dataclass(frozen=True)
class RequestExtension:
    """A handler asks a leader of the body to extend the handling period."""

    actor: str
    days: int
    reason: str


@dataclass(frozen=True)
class AddHearingDays:
    """复核听证 (A36): the days a hearing takes are not counted in the re-review's period."""

    actor: str
    days: int


@dataclass(frozen=True)
class NameLeader:
    """包案领导: the leader in charge of the case (``leader_username``: their account)."""

    actor: str
    leader: str
    leader_username: str | None = None


@dataclass(frozen=True)
class GiveOrderFeedback:
    """The handling body's written feedback on a 督办 order."""

    actor: str
    order_id: str
    text: str


@dataclass(frozen=True)
class Reroute:
    """Routing moved the case (a hand triage sent on, 改派, 退回) to another handling body."""

    actor: str
    action: str  # routing's word for it: 转送 / 交办 / 改派 / 退回 …
    reason: str
    to_unit_code: str
    to_unit_name: str
    supervising_code: str | None
    routed_at: datetime
    needs_manual_triage: bool
    place_code: str | None = None  # where the matter is, if routing says (the first routing)
    place_name: str | None = None


@dataclass(frozen=True)
class Recalendar:
    """A holiday notice for ``year`` was loaded: the listed open deadlines, computed under the
    ``previous`` calendar, are recomputed under the law's (new) one."""

    actor: str
    year: int
    deadline_ids: frozenset[str]
    previous: WorkCalendar


@dataclass(frozen=True)
class MirrorDeadline:
    kind: str
    label: str
    due_date: date
    status: str


@dataclass(frozen=True)
class MirrorStatus:
    """The level that runs the case moved it (case.status_changed): this level's copy follows."""

    actor: str
    old_status: str | None
    new_status: str
    note: str
    deadlines: tuple[MirrorDeadline, ...]


@dataclass(frozen=True)
class MirrorEscalation:
    """The level that runs the case escalated it (提级督办)."""

    escalation: int
    to_unit_code: str
    to_unit_name: str | None
    reason: str


@dataclass(frozen=True)
class MirrorOrder:
    """The level that runs the case issued a 督办 order on it."""

    order_id: str
    issued_by: str
    issued_by_name: str
    issued_to: str
    issued_to_name: str
    issued_at: datetime
    feedback_due: date
    deadline_label: str


@dataclass(frozen=True)
class MirrorLeader:
    actor: str
    leader: str


@dataclass(frozen=True)
class MirrorFeedback:
    actor: str
    order_id: str
    text: str
    given_at: datetime


Command = (
    LifecycleCommand
    | RequestExtension
    | AddHearingDays
    | NameLeader
    | GiveOrderFeedback
    | Reroute
    | Recalendar
    | MirrorStatus
    | MirrorEscalation
    | MirrorOrder
    | MirrorLeader
    | MirrorFeedback
)
