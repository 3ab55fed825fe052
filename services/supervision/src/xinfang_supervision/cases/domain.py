"""Supervision's law for one case, in one pure place: :func:`handle` decides a command
(:mod:`~xinfang_supervision.cases.commands`) against the case aggregate
(:mod:`~xinfang_supervision.cases.aggregate`) and says what happened as a list of domain events
(:mod:`~xinfang_supervision.cases.events`). No SQL, no I/O: the store
(:mod:`xinfang_supervision.cases.store`) persists the events, the service layer wires the two.

The rules it applies:

- the lifecycle (:mod:`xinfang_supervision.lifecycle`): which step is allowed in which state;
- the deadlines (:mod:`xinfang_supervision.deadlines`): accepting or declining meets the triage
  and acceptance notice deadlines and accepting opens the handling period; an approved extension
  (once, at most the profile's maximum) moves the handling due date; the reply meets it; a review
  (only within its window after the reply) opens the review answer deadline at the office above,
  its answer meets it; a re-review (only within its window) opens the re-review answer deadline
  one office further up, and a hearing moves it by the hearing's days; its answer meets it;
- who oversees (:mod:`xinfang_supervision.cases.oversight`): every deadline is watched by the
  overseer of the body that holds it;
- what the petitioner is told next (:func:`next_step`).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from xinfang_shared.timeutil import local_date

from xinfang_supervision import deadlines as law_of_deadlines
from xinfang_supervision.cases import commands as c
from xinfang_supervision.cases.aggregate import (
    Case,
    CaseNotFound,
    Deadline,
    ExtensionRequest,
    Law,
    Order,
    Refused,
)
from xinfang_supervision.cases.events import (
    Accepted,
    Announced,
    CaseOpened,
    DeadlineMet,
    DeadlineMoved,
    DeadlineOpened,
    DeadlineSynced,
    EscalationsCounted,
    Event,
    ExtensionGranted,
    ExtensionRequested,
    FeedbackGiven,
    HandlerChanged,
    LeaderNamed,
    Noted,
    OpenDeadlinesReassigned,
    OpenDeadlinesSupervised,
    OrderIssued,
    PlaceKnown,
    Replied,
    ReviewAnswered,
    StatusChanged,
    Summary,
    evolve,
)
from xinfang_supervision.cases.oversight import (
    display_name,
    overseer,
    rereviewing_office,
    reviewing_office,
)
from xinfang_supervision.lifecycle import (
    LABELS,
    REPLY_OUTCOMES,
    InvalidTransition,
    State,
    next_state,
)
from xinfang_supervision.profiles import Profile


class _Decision:
    """The events of one decision, applied as they are made to a working copy of the case (so
    a later rule, such as the next step, sees what an earlier one did)."""

    def __init__(self, case: Case, law: Law, now: datetime) -> None:
        self.case = copy.deepcopy(case)
        self.law, self.now, self.today = law, now, local_date(now)
        self.events: list[Event] = []

    def __call__(self, *events: Event) -> None:
        for e in events:
            evolve(self.case, e)
            self.events.append(e)

    def open_deadline(self, kind: str, start: date, unit_code: str, extra_days: int = 0) -> None:
        case, law = self.case, self.law
        limit = law.profiles[case.profile][kind]
        due = law.due(case, kind, start, extra_days)
        self(
            DeadlineOpened(
                Deadline(
                    id=str(uuid.uuid4()),
                    kind=kind,
                    label=limit.label,
                    basis=limit.basis,
                    unit_code=unit_code,
                    unit_name=display_name(law.tree, unit_code),
                    supervisor_code=overseer(law.tree, unit_code, case.supervising_code),
                    start_date=start,
                    due_date=due,
                    next_check=law_of_deadlines.first_check(due, law.reminder_days),
                )
            )
        )

    def meet(self, kind: str) -> None:
        d = self.case.deadline(kind)
        if d is not None and d.status == "open":
            self(DeadlineMet(kind, self.now))

    def note(
        self,
        actor: str,
        action: str,
        note: str,
        *,
        frm: str | None = None,
        to: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        self(Noted(actor, action, frm, to, note, self.now, detail))

    def announce(self, old: str | None, actor: str, note: str) -> None:
        case = self.case
        self(
            Announced(
                old_status=old,
                new_status=case.status,
                actor=actor,
                note=note,
                next_step=next_step(case, law=self.law),
                deadlines=tuple(
                    Summary(d.kind, d.label, d.due_date, d.status) for d in case.deadlines
                ),
                handling_unit_name=case.unit_name,
                at=self.now,
            )
        )


# --- deciding ---------------------------------------------------------------------------------


def handle(case: Case, command: c.Command, *, now: datetime, law: Law) -> list[Event]:
    """What ``command`` does to ``case`` under the law, as events (the case is not changed);
    :class:`Refused` when the law or the case's state does not allow it."""
    d = _Decision(case, law, now)
    match command:
        case c.RequestExtension():
            _request_extension(d, command)
        case c.AddHearingDays():
            _hearing(d, command)
        case c.NameLeader(actor=actor, leader=leader):
            d(LeaderNamed(leader, actor, now, username=command.leader_username))
            status = case.status.value
            d.note(actor, "leader", f"确定包案领导：{leader}", frm=status, to=status)
        case c.GiveOrderFeedback():
            _feedback(d, command)
        case c.Reroute():
            _reroute(d, command)
        case c.Recalendar():
            _recalendar(d, command)
        case (
            c.MirrorStatus()
            | c.MirrorEscalation()
            | c.MirrorOrder()
            | c.MirrorLeader()
            | c.MirrorFeedback()
        ):
            _mirror(d, command)
        case _:
            _transition(d, command)
    return d.events


def _require(**values: str | None) -> None:
    missing = [name for name, v in values.items() if not (v or "").strip()]
    if missing:
        raise Refused(
            f"缺少必填项：{'、'.join(missing)}",
            f"missing: {', '.join(missing)}",
            status=422,
            fields=missing,
        )


def _check_extension_days(profile: Profile, days: int) -> None:
    limit = profile["max_extension"].days
    if not 1 <= days <= limit:
        raise Refused(f"延长期限应为1至{limit}日", f"extension must be 1..{limit} days", status=422)


def _transition(d: _Decision, cmd: c.LifecycleCommand) -> None:
    case, law, now, today = d.case, d.law, d.now, d.today
    old = case.status
    try:
        new = next_state(old, cmd.action)
    except InvalidTransition as exc:
        raise Refused(exc.zh, exc.en) from None
    _require(actor=cmd.actor)
    profile = law.profiles[case.profile]
    detail: dict[str, Any] = {}
    match cmd:
        case c.Accept():
            d.meet("triage")  # handled where it was triaged
            d.meet("acceptance_notice")
            d.open_deadline("handling", today, case.unit_code)
            d(Accepted(now))
            note = "已受理，并书面告知信访人"
        case c.Decline(reason=reason):
            _require(reason=reason)
            d.meet("triage")
            d.meet("acceptance_notice")
            detail = {"reason": reason}
            note = f"不予受理，理由：{reason}（已书面告知信访人）"
        case c.Extend():
            # approved by a leader of the body (the caller); the days and reason are the
            # handler's pending request unless the leader gives them
            pending = case.pending_extension
            days = cmd.days or (pending.days if pending else 0)
            reason = cmd.reason or (pending.reason if pending else "")
            _require(reason=reason)
            _check_extension_days(profile, days)
            handling = case.deadline("handling")
            assert handling is not None, "an accepted case has its handling deadline"
            due = law.due(case, "handling", handling.start_date, days)
            d(
                DeadlineMoved(
                    "handling", due, law_of_deadlines.first_check(due, law.reminder_days), -1
                )
            )
            d(ExtensionGranted(days, cmd.actor, now, pending.id if pending else None))
            detail = {"days": days, "reason": reason, "approver": cmd.actor}
            note = (
                f"经{cmd.actor}批准延期{days}日至{due:%Y年%m月%d日}，理由：{reason}（已告知信访人）"
            )
        case c.Reply():
            _require(
                outcome=cmd.outcome,
                facts=cmd.facts,
                reasons=cmd.reasons,
                legal_basis=cmd.legal_basis,
            )
            if cmd.outcome not in REPLY_OUTCOMES:
                raise Refused(
                    f"处理意见应为：{'、'.join(sorted(REPLY_OUTCOMES))}",
                    "outcome must be one of " + ", ".join(sorted(REPLY_OUTCOMES)),
                    status=422,
                )
            d.meet("handling")
            d(Replied(now, cmd.outcome))
            detail = {
                "outcome": cmd.outcome,
                "facts": cmd.facts,
                "reasons": cmd.reasons,
                "legal_basis": cmd.legal_basis,
            }
            note = f"出具信访处理意见书：{cmd.outcome}"
        case c.Close():
            note = "办结"
        case c.RequestReview():
            assert case.replied_at is not None
            _within_window(
                law.due(case, "review_request_window", local_date(case.replied_at)),
                today,
                "复查申请期限已于{:%Y年%m月%d日}届满（收到处理意见书之日起30日内）",
                "the review request window closed on {}",
            )
            reviewer = reviewing_office(law.tree, case.unit_code)
            d.open_deadline("review_answer", today, reviewer)
            note = f"信访人申请复查，由{display_name(law.tree, reviewer)}复查"
        case c.AnswerReview(outcome=outcome):
            _require(outcome=outcome)
            d.meet("review_answer")
            d(ReviewAnswered(now))
            detail = {"outcome": outcome}
            note = f"出具复查意见：{outcome}"
        case c.RequestRereview():
            assert case.review_answered_at is not None
            _within_window(
                law.due(case, "rereview_request_window", local_date(case.review_answered_at)),
                today,
                "复核申请期限已于{:%Y年%m月%d日}届满（收到复查意见之日起30日内）",
                "the re-review request window closed on {}",
            )
            rereviewer = rereviewing_office(law.tree, case.unit_code)
            d.open_deadline("rereview_answer", today, rereviewer)
            note = f"信访人申请复核，由{display_name(law.tree, rereviewer)}复核"
        case c.AnswerRereview(outcome=outcome):
            _require(outcome=outcome)
            d.meet("rereview_answer")
            detail = {"outcome": outcome}
            note = f"出具复核意见：{outcome}。该事项终结"
    d(StatusChanged(old, new))
    d.note(cmd.actor, cmd.action.value, note, frm=old.value, to=new.value, detail=detail or None)
    d.announce(old.value, cmd.actor, note)


def _within_window(window: date, today: date, zh: str, en: str) -> None:
    if today > window:
        raise Refused(
            zh.format(window), en.format(window.isoformat()), window_closed_on=window.isoformat()
        )


def _request_extension(d: _Decision, cmd: c.RequestExtension) -> None:
    """A34: a handler asks; a leader of the body approves it with :class:`commands.Extend`."""
    case = d.case
    if case.status is State.EXTENDED:
        raise Refused("办理期限只能延长一次", "the handling period can be extended only once")
    if case.status is not State.ACCEPTED:
        raise Refused(
            f"当前状态为“{LABELS[case.status]}”，不能申请延期",
            f"cannot request an extension of a case that is {case.status.value}",
        )
    _require(reason=cmd.reason)
    _check_extension_days(d.law.profiles[case.profile], cmd.days)
    if case.pending_extension is not None:
        raise Refused("已有待批准的延期申请", "an extension request is already pending")
    d(ExtensionRequested(ExtensionRequest(cmd.days, cmd.reason, cmd.actor, d.now)))
    d.note(
        cmd.actor,
        "request_extension",
        f"申请延期{cmd.days}日，理由：{cmd.reason}，待本机关负责人批准",
        frm=case.status.value,
        to=case.status.value,
    )


def _hearing(d: _Decision, cmd: c.AddHearingDays) -> None:
    """A36: the time a hearing takes is not counted in the re-review's period."""
    case = d.case
    if case.status is not State.REREVIEW_REQUESTED:
        raise Refused("仅复核期间可举行听证", "hearings belong to a re-review in progress")
    if not 1 <= cmd.days <= 90:
        raise Refused("听证天数应为1至90日", "hearing days must be 1..90", status=422)
    row = case.deadline("rereview_answer")
    assert row is not None, "a re-review in progress has its answer deadline"
    due = row.due_date + timedelta(days=cmd.days)
    d(DeadlineMoved(row.kind, due, law_of_deadlines.first_check(due, d.law.reminder_days)))
    d.note(
        cmd.actor,
        "hearing",
        f"举行听证{cmd.days}日，不计入复核期限，复核期限顺延至{due:%Y年%m月%d日}",
        frm=case.status.value,
        to=case.status.value,
    )


def _feedback(d: _Decision, cmd: c.GiveOrderFeedback) -> None:
    order = d.case.order(cmd.order_id)
    if order is None:
        raise CaseNotFound(cmd.order_id)
    if order.feedback_at is not None:
        raise Refused("该督办单已反馈", "feedback already given")
    d(FeedbackGiven(cmd.order_id, cmd.text, cmd.actor, d.now))
    d.note(cmd.actor, "order_feedback", f"督办反馈：{cmd.text}")


def open_case(
    *,
    case_id: str,
    case_number: str,
    profile: str,
    unit_code: str,
    unit_name: str,
    supervising_code: str | None,
    category: str | None,
    received_at: datetime,
    routed_at: datetime,
    needs_manual_triage: bool,
    actor: str,
    note: str,
    place_code: str | None = None,
    place_name: str | None = None,
    announce: str,
    now: datetime,
    law: Law,
) -> list[Event]:
    """The final hop of routing: the handling body has the case. Its first deadline opens —
    the acceptance notice (A23's 15 days from the routing), or, when no rule decided who handles
    it, the petition office's hand triage (A22's 15 days from receipt)."""
    case = Case(
        case_id=case_id,
        case_number=case_number,
        profile=profile,
        status=State.ROUTED,
        unit_code=unit_code,
        unit_name=unit_name,
        supervising_code=supervising_code,
        category=category,
        received_at=received_at,
        routed_at=routed_at,
        place_code=place_code,
        place_name=place_name,
    )
    d = _Decision(case, law, now)
    d.events.append(CaseOpened(replace(case)))
    if needs_manual_triage:
        d.open_deadline("triage", local_date(received_at), unit_code)
    else:
        d.open_deadline("acceptance_notice", local_date(routed_at), unit_code)
    d.note(actor, "routed", note, to=State.ROUTED.value)
    d.announce(None, actor, announce)
    return d.events


def _reroute(d: _Decision, cmd: c.Reroute) -> None:
    """The case moves to another body: a hand triage sent on meets A22 and the receiving body's
    acceptance notice starts; otherwise the open deadlines move with the case, overseen by the
    new holder's overseer (a case returned to its petition office is overseen from above)."""
    case, law = d.case, d.law
    supervising = cmd.supervising_code or case.supervising_code
    d(HandlerChanged(cmd.to_unit_code, cmd.to_unit_name, supervising))
    if case.place_code is None and cmd.place_code:
        d(PlaceKnown(cmd.place_code, cmd.place_name))
    triage = case.deadline("triage")
    if triage is not None and triage.status == "open" and not cmd.needs_manual_triage:
        d.meet("triage")
        d.open_deadline("acceptance_notice", local_date(cmd.routed_at), cmd.to_unit_code)
    else:
        d(
            OpenDeadlinesReassigned(
                cmd.to_unit_code,
                cmd.to_unit_name,
                overseer(law.tree, cmd.to_unit_code, supervising),
            )
        )
    status = case.status.value
    d.note(
        cmd.actor,
        cmd.action,
        f"{cmd.action}至{cmd.to_unit_name}：{cmd.reason}",
        frm=status,
        to=status,
    )
    d.announce(status, cmd.actor, f"{cmd.action}至{cmd.to_unit_name}")


def _recalendar(d: _Decision, cmd: c.Recalendar) -> None:
    """A holiday notice moved the calendar: each listed open deadline gets its due date under
    the new calendar (the sweep works out its next step today)."""
    case, law = d.case, d.law
    moved = False
    for row in list(case.deadlines):
        if row.id not in cmd.deadline_ids or row.status != "open":
            continue
        limit = law.profiles[case.profile].limits.get(row.kind)
        if limit is None:
            continue
        extra = case.extension_days if row.kind == "handling" else 0
        due = law_of_deadlines.recomputed_due(
            limit,
            row.start_date,
            row.due_date,
            extra_days=extra,
            old=cmd.previous,
            new=law.calendar,
        )
        if due == row.due_date:
            continue
        d(DeadlineMoved(row.kind, due, d.today))
        d.note(
            cmd.actor,
            "calendar",
            f"依{cmd.year}年放假安排通知，{row.label}期限由{row.due_date:%Y年%m月%d日}"
            f"调整为{due:%Y年%m月%d日}",
        )
        moved = True
    if moved:
        d.announce(case.status.value, cmd.actor, f"依{cmd.year}年放假安排通知调整期限")


def _mirror(d: _Decision, cmd: c.Command) -> None:
    """Another level runs the case: this level's copy follows what it publishes."""
    case, now = d.case, d.now
    match cmd:
        case c.MirrorStatus():
            if cmd.new_status not in State._value2member_map_:
                return
            new = State(cmd.new_status)
            if new is not case.status:
                d(StatusChanged(case.status, new))
            for m in cmd.deadlines:
                if case.deadline(m.kind) is not None:
                    d(DeadlineSynced(m.kind, m.status, m.due_date, now))
                    continue
                d(
                    DeadlineOpened(
                        Deadline(
                            id=str(uuid.uuid4()),
                            kind=m.kind,
                            label=m.label,
                            basis=m.label,
                            unit_code=case.unit_code,
                            unit_name=case.unit_name,
                            supervisor_code=None,
                            start_date=m.due_date,
                            due_date=m.due_date,
                            status=m.status,
                            met_at=now if m.status == "met" else None,
                        )
                    )
                )
            if cmd.old_status != cmd.new_status:
                d.note(
                    cmd.actor,
                    "mirrored",
                    cmd.note,
                    frm=cmd.old_status,
                    to=cmd.new_status,
                )
        case c.MirrorEscalation():
            d(EscalationsCounted(max(case.escalations, cmd.escalation)))
            d(OpenDeadlinesSupervised(cmd.to_unit_code))
            d.note(
                "supervision",
                "escalated",
                f"{cmd.reason}：提级至{cmd.to_unit_name or display_name(d.law.tree, cmd.to_unit_code)}"
                f"督办（第{cmd.escalation}次）",
            )
        case c.MirrorOrder():
            if case.order(cmd.order_id) is not None:
                return
            d(
                OrderIssued(
                    Order(
                        id=cmd.order_id,
                        issued_by=cmd.issued_by,
                        issued_to=cmd.issued_to,
                        issued_at=cmd.issued_at,
                        feedback_due=cmd.feedback_due,
                    )
                )
            )
            d.note(
                "supervision",
                "supervision_order",
                f"{cmd.deadline_label}已超期，{cmd.issued_by_name}向{cmd.issued_to_name}发出督办单",
            )
        case c.MirrorLeader(actor=actor, leader=leader):
            d(LeaderNamed(leader, actor, now, publish=False))
            d.note(actor, "leader", f"确定包案领导：{leader}")
        case c.MirrorFeedback():
            d(FeedbackGiven(cmd.order_id, cmd.text, cmd.actor, cmd.given_at, publish=False))
            d.note(cmd.actor, "order_feedback", f"督办反馈：{cmd.text}")


# --- what happens next ------------------------------------------------------------------------


def next_step(case: Case, *, law: Law) -> str:
    """What the petitioner reads next: who must do what by when, or what they may do."""
    open_dues = case.open_dues()
    state = case.status

    def d(day: date | None) -> str:
        return f"{day:%Y年%m月%d日}" if day else ""

    if state is State.ROUTED and "triage" in open_dues:
        return f"{case.unit_name}正在分办，应于{d(open_dues.get('triage'))}前转送、交办或直接办理"
    if state is State.ROUTED:
        return f"{case.unit_name}应于{d(open_dues.get('acceptance_notice'))}前书面告知是否受理"
    if state in (State.ACCEPTED, State.EXTENDED):
        return f"{case.unit_name}应于{d(open_dues.get('handling'))}前出具信访处理意见书"
    if state is State.NOT_ACCEPTED:
        return "已书面告知不予受理的理由"
    if state in (State.REPLIED, State.CLOSED) and case.replied_at:
        window = law.due(case, "review_request_window", local_date(case.replied_at))
        return f"如不服处理意见，可于{d(window)}前向上一级机关申请复查"
    if state is State.REVIEW_REQUESTED:
        return f"复查机关应于{d(open_dues.get('review_answer'))}前作出复查意见"
    if state is State.REVIEW_ANSWERED and case.review_answered_at:
        window = law.due(case, "rereview_request_window", local_date(case.review_answered_at))
        return f"如不服复查意见，可于{d(window)}前向复查机关的上一级机关申请复核"
    if state is State.REREVIEW_REQUESTED:
        return f"复核机关应于{d(open_dues.get('rereview_answer'))}前作出复核意见"
    if state is State.FINAL:
        return "复核意见为最终意见，同一事实和理由提出的信访事项不再受理"
    return ""
