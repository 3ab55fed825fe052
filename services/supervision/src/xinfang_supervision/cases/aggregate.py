"""The case aggregate: the case, its deadlines, its 督办 orders and pending extension request, as
plain data; the :class:`Law` it is judged by; and the refusals. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from xinfang_shared import org
from xinfang_shared.workdays import WorkCalendar

from xinfang_supervision import deadlines as law_of_deadlines
from xinfang_supervision.lifecycle import State
from xinfang_supervision.profiles import Profile


class Refused(Exception):
    """A request the law or the case's state does not allow: 409 (or 422), reason in Chinese
    and English, and what else the client needs (``extra``: the date a window closed…)."""

    def __init__(self, zh: str, en: str, status: int = 409, **extra: Any) -> None:
        super().__init__(en)
        self.zh, self.en, self.status, self.extra = zh, en, status, extra


class CaseNotFound(LookupError):
    pass


# --- the aggregate --------------------------------------------------------------------------


@dataclass
class Deadline:
    id: str
    kind: str
    label: str
    basis: str
    unit_code: str
    unit_name: str
    supervisor_code: str | None
    start_date: date
    due_date: date
    status: str = "open"  # open | met | cancelled
    stage_done: int = -1  # the last checkpoint acted on
    next_check: date | None = None  # when the sweep looks again (None: another level runs it)
    met_at: datetime | None = None


@dataclass
class Order:
    """A 督办 order, and the written feedback on it."""

    id: str
    issued_by: str
    issued_to: str
    issued_at: datetime
    feedback_due: date
    deadline_id: str = ""
    feedback_at: datetime | None = None
    feedback: str | None = None


@dataclass
class ExtensionRequest:
    """A handler's request to extend the handling period, until a leader decides it."""

    days: int
    reason: str
    requested_by: str
    requested_at: datetime
    id: int | None = None  # the store's row id (None: not stored yet)


@dataclass
class Case:
    case_id: str
    case_number: str
    profile: str  # the rule profile the case was opened under
    status: State
    unit_code: str  # the body handling it
    unit_name: str
    supervising_code: str | None
    category: str | None
    received_at: datetime
    routed_at: datetime
    accepted_at: datetime | None = None
    replied_at: datetime | None = None
    reply_outcome: str | None = None
    review_answered_at: datetime | None = None
    extension_days: int = 0
    leader: str | None = None  # 包案领导 (the name a person reads)
    leader_username: str | None = None  # the 包案领导's account, when it was named
    place_code: str | None = None  # where the matter is (from the first routing)
    place_name: str | None = None
    repeat_count: int = 1
    escalations: int = 0
    backlog: bool = False
    backlog_reasons: list[str] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)  # in the order they opened
    orders: list[Order] = field(default_factory=list)
    pending_extension: ExtensionRequest | None = None

    def deadline(self, kind: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.kind == kind), None)

    def open_dues(self) -> dict[str, date]:
        return {d.kind: d.due_date for d in self.deadlines if d.status == "open"}

    def next_open(self) -> Deadline | None:
        """The open deadline due first (None: nothing open)."""
        pending = [d for d in self.deadlines if d.status == "open"]
        return min(pending, key=lambda d: d.due_date) if pending else None

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.id == order_id), None)


@dataclass(frozen=True)
class Law:
    """What the law needs to decide: the org tree, the rule profiles, the working calendar in
    force and the reminder schedule."""

    tree: org.OrgTree
    profiles: Mapping[str, Profile]
    calendar: WorkCalendar
    reminder_days: tuple[int, ...] = (7, 3, 1)

    def due(self, case: Case, kind: str, start: date, extra_days: int = 0) -> date:
        return law_of_deadlines.due_date(
            self.profiles[case.profile], kind, start, calendar=self.calendar, extra_days=extra_days
        )
