"""The read model's projection, free of I/O: what one event makes known of its item (件次),
and how two such partial rows are merged.

1. One event, one patch. An event about case ``c`` becomes a *patch*: a whole ``rpt_items``
   row for ``c`` in which the columns the event says nothing about hold their neutral value
   (NULL; ``False`` for a flag; 0 escalations). Events the read model does not use give none.
   - petition.received: when and how it came in (received_at, its local Asia/Shanghai date,
     channel, persons, collective, anonymous, informant_sealed), who (petitioners joined by
     "、", at most 200 characters; none when the informant is sealed), the receiving office,
     title, summary (the content's first 300 characters) and the registrar's category code.
   - case.routed: the first routing's hops (hop 1, or a hop naming the place) give the place,
     skip_level, kind, category with its name, legal_channel; a final hop gives the body that
     handles it (handling_code/name, supervising_code) and its hop number (route_hop).
   - case.linked: repeat_match (重复信访 | 一信多投) and the linked case's number.
   - case.status_changed: the status, its label and time; a 受理 / 不予受理 is the decision
     (decided_at, its date, decision); the 受理告知 and 办理 deadlines it carries are
     accept_due / reply_due (with the event's time); 延期 sets extended; 出具处理意见 is the
     reply (replied_at, its date, outcome: the note); 办结 / 终结 is closed_at and its date.
   - deadline.overdue: overdue, first_overdue_date = the day after the due date (or the
     event's own date if earlier).
   - case.supervision_order: supervised, first_order_date. case.escalated: escalations.
     case.leader_named: leader (and when). case.backlog: backlog, backlog_date, the reason.
     alert.collective: collective_alert.
2. Merge, column by column, so that neither the order events arrive in nor how often one
   arrives changes the result (``merge`` is commutative, associative and idempotent):
   - a *group* of columns is written together from the patch that wins on the group's key:
     the earliest (the first reception, decision, reply, closing, overdue day, 督办, backlog
     day; the smallest case number, place and kind, the same on every hop that has them) or
     the latest (the status by its time, each deadline by the time of the event that carried
     it, the leader by when named, the handling body by the highest hop). A patch without the
     key loses; equal keys are decided by a tie-break column (the status by its place in the
     lifecycle, the others by the larger value); two patches equal in both are copies of one
     event. The category: routing's (it has a name) beats the registrar's code.
   - flags are or-ed (once overdue, always overdue); escalations is the maximum;
   - backlog_reasons is the set of every reason seen, sorted, "；"-joined (300 characters).
3. The store (:mod:`xinfang_reports.store`) applies the same rules in SQL on conflict, from
   these definitions (:data:`GROUPS`, :data:`FLAGS`, :data:`MAXIMA`, :data:`REASONS`), so a
   patch merged into the stored row in the database gives what :func:`merge` gives here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Boolean, Integer, String
from xinfang_shared.events import (
    CaseBacklogMarked,
    CaseEscalated,
    CaseLeaderNamed,
    CaseLinked,
    CaseRouted,
    CaseStatusChanged,
    CollectiveAlert,
    DeadlineOverdue,
    Envelope,
    EventData,
    PetitionReceived,
    SupervisionOrderIssued,
)
from xinfang_shared.status import status_label
from xinfang_shared.timeutil import local_date

from xinfang_reports.models import items

Patch = dict[str, Any]  # a whole rpt_items row: column -> value

COLUMNS: tuple[str, ...] = tuple(c.name for c in items.columns)
CASE_ID_MAX = 36
REASON_SEP = "；"
NAME_SEP = "、"
SUMMARY_CHARS = 300
# a status's place in the lifecycle: two changes at the same instant are ordered by it
STATUS_ORDER: tuple[str, ...] = (
    "registered",
    "routed",
    "linked",
    "accepted",
    "not_accepted",
    "in_handling",
    "extended",
    "replied",
    "closed",
    "review_requested",
    "review_answered",
    "rereview_requested",
    "final",
)
DECIDED = ("accepted", "not_accepted")
CLOSED = ("closed", "final")
ACCEPT_DEADLINE, REPLY_DEADLINE = "acceptance_notice", "handling"


def _neutral(column: str) -> Any:
    col = items.c[column]
    if isinstance(col.type, Boolean):
        return False
    if isinstance(col.type, Integer) and not col.nullable:
        return 0
    return None


NEUTRAL: dict[str, Any] = {c: _neutral(c) for c in COLUMNS}


def blank(case_id: str) -> Patch:
    """The row of an item nothing is known of yet."""
    return {**NEUTRAL, "case_id": case_id}


# --- the merge rules --------------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    """A key: the column's own value (NULL: the patch knows nothing of it)."""

    name: str

    def value(self, row: Mapping[str, Any]) -> Any:
        return row[self.name]


@dataclass(frozen=True)
class Present:
    """A key: which of ``names`` the patch has, the first one counting most (len(names)
    for the first, 1 for the last, None for none)."""

    names: tuple[str, ...]

    def value(self, row: Mapping[str, Any]) -> int | None:
        for i, name in enumerate(self.names):
            if row[name] is not None:
                return len(self.names) - i
        return None


@dataclass(frozen=True)
class Ranked:
    """A key: the value's place in ``order`` (1 for the first; None when unknown)."""

    name: str
    order: tuple[str, ...]

    def value(self, row: Mapping[str, Any]) -> int | None:
        v = row[self.name]
        return self.order.index(v) + 1 if v in self.order else None


Key = Col | Present | Ranked


@dataclass(frozen=True)
class Group:
    """Columns written together from the patch with the earliest (``latest=False``) or the
    latest key; on equal keys the one with the larger ``tiebreak``."""

    columns: tuple[str, ...]
    key: Key
    latest: bool
    tiebreak: Key | None = None

    def new_wins(self, stored: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
        k_new, k_old = self.key.value(new), self.key.value(stored)
        if k_new is None:
            return False
        if k_old is None:
            return True
        if k_new != k_old:
            return bool(k_new > k_old if self.latest else k_new < k_old)
        if self.tiebreak is None:
            return False
        t_new, t_old = self.tiebreak.value(new), self.tiebreak.value(stored)
        return t_new is not None and (t_old is None or t_new > t_old)


def _earliest(*columns: str, key: str | None = None, tiebreak: str | None = None) -> Group:
    return Group(columns, Col(key or columns[0]), False, Col(tiebreak) if tiebreak else None)


def _latest(*columns: str, key: str, tiebreak: Key) -> Group:
    return Group(columns, Col(key), True, tiebreak)


GROUPS: tuple[Group, ...] = (
    _earliest("case_number"),
    _earliest(
        "received_at",
        "received_date",
        "channel",
        "persons",
        "collective",
        "anonymous",
        "informant_sealed",
        "petitioners",
        "receiving_office_code",
        "receiving_office_name",
        "title",
        "summary",
    ),
    # routing's category (the first hop names it) wins over the registrar's code
    Group(
        ("category", "category_name"),
        Present(("category_name", "category")),
        latest=True,
        tiebreak=Col("category"),
    ),
    # routing's place (the first hop names it) wins over the registrar's matter location
    Group(
        ("place_code", "place_name"),
        Present(("place_name", "place_code")),
        latest=True,
        tiebreak=Col("place_code"),
    ),
    _earliest("kind"),
    _latest(
        "handling_code",
        "handling_name",
        "supervising_code",
        "route_hop",
        key="route_hop",
        tiebreak=Col("handling_code"),
    ),
    _earliest("linked_case_number", "repeat_match"),
    _latest(
        "status",
        "status_label",
        "status_at",
        key="status_at",
        tiebreak=Ranked("status", STATUS_ORDER),
    ),
    _earliest("decided_at", "decided_date", "decision", tiebreak="decision"),
    _latest("accept_due", "accept_due_at", key="accept_due_at", tiebreak=Col("accept_due")),
    _latest("reply_due", "reply_due_at", key="reply_due_at", tiebreak=Col("reply_due")),
    _earliest("replied_at", "replied_date", "outcome", tiebreak="outcome"),
    _earliest("closed_at", "closed_date"),
    _earliest("first_overdue_date"),
    _earliest("first_order_date"),
    _latest("leader", "leader_at", key="leader_at", tiebreak=Col("leader")),
    _earliest("backlog_date"),
)
FLAGS: tuple[str, ...] = (
    "skip_level",
    "legal_channel",
    "extended",
    "overdue",
    "supervised",
    "backlog",
    "collective_alert",
)
MAXIMA: tuple[str, ...] = ("escalations",)
REASONS = "backlog_reasons"
REASONS_MAX = 300


def union_reasons(stored: str | None, new: str | None) -> str | None:
    """Every reason of both, each once, sorted (by code point), "；"-joined, cut at 300."""
    if new is None:
        return stored
    if stored is None:
        return new
    every = {r for r in f"{stored}{REASON_SEP}{new}".split(REASON_SEP) if r}
    return REASON_SEP.join(sorted(every))[:REASONS_MAX] or None


def merge(stored: Mapping[str, Any], new: Mapping[str, Any]) -> Patch:
    """Two patches (or the stored row and a patch) of one item as one row."""
    out = dict(stored)
    for group in GROUPS:
        if group.new_wins(stored, new):
            for column in group.columns:
                out[column] = new[column]
    for column in FLAGS:
        out[column] = bool(stored[column] or new[column])
    for column in MAXIMA:
        out[column] = max(stored[column] or 0, new[column] or 0)
    out[REASONS] = union_reasons(stored[REASONS], new[REASONS])
    return out


def fold(patches: Iterable[Patch]) -> dict[str, Patch]:
    """Patches of many items merged per item: case id -> its row."""
    rows: dict[str, Patch] = {}
    for p in patches:
        held = rows.get(p["case_id"])
        rows[p["case_id"]] = p if held is None else merge(held, p)
    return rows


# --- one event, one patch ---------------------------------------------------------------------


def _names(p: PetitionReceived) -> str | None:
    if p.informant_sealed:
        return None
    return NAME_SEP.join(x.name for x in p.petitioners if x.name) or None


def _received(e: PetitionReceived, _env: Envelope) -> Patch:
    return {
        "received_at": e.received_at,
        "received_date": local_date(e.received_at),
        "channel": e.channel,
        "persons": e.persons,
        "collective": e.collective,
        "anonymous": e.anonymous,
        "informant_sealed": e.informant_sealed,
        "petitioners": _names(e),
        "receiving_office_code": e.receiving_office_code,
        "receiving_office_name": e.receiving_office_name,
        "title": e.title,
        "summary": e.content[:SUMMARY_CHARS] or None,
        "category": e.category,
        "place_code": e.matter_location_code,
    }


def _routed(e: CaseRouted, _env: Envelope) -> Patch:
    out: Patch = {}
    if e.hop == 1 or e.place_code:
        out |= {
            "place_code": e.place_code,
            "place_name": e.place_name if e.place_code else None,
            "skip_level": e.skip_level,
            "kind": e.kind,
            "category": e.category,
            "category_name": e.category_name if e.category else None,
            "legal_channel": e.legal_channel,
        }
    if e.final:
        out |= {
            "handling_code": e.to_unit_code,
            "handling_name": e.to_unit_name,
            "supervising_code": e.supervising_code,
            "route_hop": e.hop,
        }
    return out


def _linked(e: CaseLinked, _env: Envelope) -> Patch:
    """A repeat joins an open case: it is counted about that case's matter and under its
    holder (hop 0: a routing of the item itself, if there ever is one, wins)."""
    out: Patch = {"repeat_match": e.match, "linked_case_number": e.linked_case_number}
    if e.category:
        out |= {"category": e.category, "category_name": e.category_name, "kind": e.kind}
    if e.holder_code:
        out |= {"handling_code": e.holder_code, "handling_name": e.holder_name, "route_hop": 0}
    if e.skip_level:
        out["skip_level"] = True
    return out


def _status(e: CaseStatusChanged, _env: Envelope) -> Patch:
    at, new = e.changed_at, e.new_status
    out: Patch = {
        "status": new,
        "status_label": e.status_label or status_label(new),
        "status_at": at,
        "extended": new == "extended",
    }
    if new in DECIDED:
        out |= {"decided_at": at, "decided_date": local_date(at), "decision": new}
    if new == "replied":
        out |= {"replied_at": at, "replied_date": local_date(at), "outcome": e.note or None}
    if new in CLOSED:
        out |= {"closed_at": at, "closed_date": local_date(at)}
    for d in e.deadlines:
        if d.kind == ACCEPT_DEADLINE:
            out |= {"accept_due": d.due_date, "accept_due_at": at}
        elif d.kind == REPLY_DEADLINE:
            out |= {"reply_due": d.due_date, "reply_due_at": at}
    return out


def _overdue(e: DeadlineOverdue, env: Envelope) -> Patch:
    first: date = min(local_date(env.time), e.due_date + timedelta(days=1))
    return {"overdue": True, "first_overdue_date": first}


def _order(e: SupervisionOrderIssued, _env: Envelope) -> Patch:
    return {"supervised": True, "first_order_date": local_date(e.issued_at)}


def _escalated(e: CaseEscalated, _env: Envelope) -> Patch:
    return {"escalations": max(e.escalation, 0)}


def _leader(e: CaseLeaderNamed, _env: Envelope) -> Patch:
    return {"leader": e.leader or None, "leader_at": e.named_at if e.leader else None}


def clean_reason(reason: str) -> str | None:
    """A reason as one element of the "；"-joined set (no separator, nothing that would need
    quoting inside the database's split of the set; see the store)."""
    text = "".join(ch for ch in reason if ch.isprintable())
    text = text.replace(REASON_SEP, ";").replace('"', "＂").replace("\\", "＼").strip()
    return text[:REASONS_MAX] or None


def _backlog(e: CaseBacklogMarked, _env: Envelope) -> Patch:
    return {
        "backlog": True,
        "backlog_date": local_date(e.marked_at),
        "backlog_reasons": clean_reason(e.reason),
    }


def _collective(_e: CollectiveAlert, _env: Envelope) -> Patch:
    return {"collective_alert": True}


Projector = Callable[[Any, Envelope], Patch]
PROJECTORS: dict[type[EventData], Projector] = {
    PetitionReceived: _received,
    CaseRouted: _routed,
    CaseLinked: _linked,
    CaseStatusChanged: _status,
    DeadlineOverdue: _overdue,
    SupervisionOrderIssued: _order,
    CaseEscalated: _escalated,
    CaseLeaderNamed: _leader,
    CaseBacklogMarked: _backlog,
    CollectiveAlert: _collective,
}
BY_TYPE: dict[str, Projector] = {model.TYPE: fn for model, fn in PROJECTORS.items()}
TOPICS: list[str] = list(dict.fromkeys(model.TOPIC for model in PROJECTORS))


TEXT_LIMITS: dict[str, int] = {
    c.name: c.type.length
    for c in items.columns
    if isinstance(c.type, String) and c.type.length and c.name != "case_id"
}


def _fit(row: Patch) -> Patch:
    """Text cut to its column's length (the database would refuse it longer)."""
    for name, limit in TEXT_LIMITS.items():
        value = row[name]
        if value is not None and len(value) > limit:
            row[name] = value[:limit]
    return row


def patch(envelope: Envelope, payload: EventData | None = None) -> Patch | None:
    """What ``envelope``'s event makes known of its item, or None: an event the read model
    does not use, or one whose case id no row can hold. ``payload``: the event's data when
    already parsed (else parsed here; raises as :meth:`Envelope.payload` does)."""
    projector = BY_TYPE.get(envelope.type)
    if projector is None:
        return None
    data = payload if payload is not None else envelope.payload()
    case_id = getattr(data, "case_id", None)
    if not isinstance(case_id, str) or not case_id or len(case_id) > CASE_ID_MAX:
        return None
    number = getattr(data, "case_number", None) or None
    return _fit({**blank(case_id), "case_number": number, **projector(data, envelope)})
