"""Supervision service functions: the case lifecycle, deadlines, reminders, 督办 and escalation.
They take a unit of work (or a session) and never commit: the caller does."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseEscalated,
    CaseLeaderNamed,
    CaseLinked,
    CaseRouted,
    CaseStatusChanged,
    DeadlineOverdue,
    DeadlineReminder,
    DeadlineSummary,
    EventData,
    RepeatWaveAlert,
    SupervisionFeedbackGiven,
    SupervisionOrderIssued,
    new_event,
)
from xinfang_shared.levels import Deployment
from xinfang_shared.timeutil import local_date
from xinfang_shared.workdays import WorkCalendar

from xinfang_supervision import emerging, labels
from xinfang_supervision.deadlines import first_check, next_notice
from xinfang_supervision.lifecycle import (
    LABELS,
    REPLY_OUTCOMES,
    Action,
    InvalidTransition,
    State,
    next_state,
    open_states,
)
from xinfang_supervision.models import (
    cases,
    deadlines,
    extension_requests,
    history,
    notices,
    orders,
    outbox,
    repeat_arrivals,
    repeat_wave_alerts,
)
from xinfang_supervision.profiles import Profile

SOURCE = "/xinfang/supervision"


@dataclass
class SupervisionContext:
    profiles: dict[str, Profile]
    profile: str  # the deployment's profile for new cases
    tree: org.OrgTree
    reminder_days: tuple[int, ...] = (7, 3, 1)
    grace_days: int = 7
    max_escalations: int = 3
    backlog_after_days: int = 90
    repeat_wave_threshold: int = 3
    repeat_wave_days: int = 7
    deployment: Deployment = field(default_factory=lambda: Deployment("339900"))
    # working days: the calendar package, the statutory rules and the notices an administrator
    # loaded (replaced whole when a notice is loaded, and on every sweep)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    stats: dict[str, int] = field(default_factory=lambda: {"notices": 0})

    def owns(self, code: str | None) -> bool:
        """This level runs the clock of what ``code`` holds (see xinfang_shared.levels)."""
        return self.deployment.owns(self.tree, code)

    def sees(self, *codes: str | None) -> bool:
        return self.deployment.sees_any(self.tree, *codes)

    def owned_codes(self) -> frozenset[str] | None:
        """The unit and department codes this level owns; None when it owns the whole tree
        (the single deployment: no SQL filter needed)."""
        roots = [c for c, u in self.tree.units.items() if u.parent is None]
        if not self.deployment.lower and roots == [self.deployment.scope]:
            return None
        units = {c for c in self.tree.units if self.deployment.owns(self.tree, c)}
        return frozenset(units | {d.code for u in units for d in self.tree.departments_of(u)})


class CaseNotFound(LookupError):
    pass


class Refused(Exception):
    """A request the law or the case's state does not allow: 409 (or 422), reason in Chinese."""

    def __init__(self, zh: str, en: str, status: int = 409, **extra: Any) -> None:
        super().__init__(en)
        self.zh, self.en, self.status, self.extra = zh, en, status, extra


def _emit(uow: UnitOfWork, data: EventData, now: datetime) -> None:
    uow.emit(outbox, new_event(data=data, source=SOURCE, time=now), topic=data.TOPIC, now=now)


def display_name(tree: org.OrgTree, code: str | None) -> str:
    """What a person reads for a unit or department code."""
    return _name(tree, code)


def _name(tree: org.OrgTree, code: str | None) -> str:
    if not code:
        return ""
    if d := tree.department(code):
        return d.name
    if u := tree.unit(code.split("-")[0]):
        return u.petition_office_name
    return code


def office_above(tree: org.OrgTree, code: str | None) -> str | None:
    """The petition office one level above the unit of a department or office code."""
    if not code:
        return None
    dept = tree.department(code)
    unit = tree.unit(dept.unit if dept else code.split("-")[0])
    if unit is None or unit.parent is None:
        return None
    for u in tree.ancestors(unit.parent):
        if office := tree.petition_office(u.code):
            return office.code
    return None


def _depth(tree: org.OrgTree, code: str | None) -> int:
    dept = tree.department(code or "")
    unit = tree.unit(dept.unit if dept else (code or "").split("-")[0])
    return unit.depth if unit else 99


def overseer(tree: org.OrgTree, handling: str, supervising: str | None) -> str | None:
    """Who issues the 督办 order: the office that assigned the case if it sits above the handling
    body (it keeps supervising what it assigned); for a functional department of a county or
    higher government, the petition office of that government (本级信访工作机构督办本级工作部门,
    e.g. a township's item sent to 清河县自然资源局 is supervised by 清河县信访局); else — a
    petition office holding a case (one returned to it by an objection), a township government —
    the petition office of the level above. Never the handling body itself; None at the top of
    the tree (nobody above to issue it)."""
    if (
        supervising
        and supervising != handling
        and _depth(tree, supervising) < _depth(tree, handling)
    ):
        return supervising
    dept = tree.department(handling)
    unit = tree.unit(dept.unit) if dept else None
    if (
        dept is not None
        and unit is not None
        and dept.kind is org.DepartmentKind.DEPARTMENT
        and unit.level in (org.Level.PROVINCE, org.Level.CITY, org.Level.COUNTY)
    ):
        office = tree.petition_office(unit.code)
        if office is not None and office.code != handling:
            return office.code
    above = office_above(tree, handling)
    if above is not None:
        return above
    return supervising if supervising != handling else None


# --- deadlines ----------------------------------------------------------------------------


def _add_deadline(
    uow: UnitOfWork,
    sc: SupervisionContext,
    case: Any,
    *,
    kind: str,
    start: date,
    unit_code: str,
    now: datetime,
    extra_days: int = 0,
) -> dict[str, Any]:
    limit = sc.profiles[case.profile][kind]
    due = limit.due(start, extra_days, calendar=sc.calendar)
    row = {
        "id": str(uuid.uuid4()),
        "case_id": case.case_id,
        "case_number": case.case_number,
        "kind": kind,
        "label": limit.label,
        "basis": limit.basis,
        "unit_code": unit_code,
        "unit_name": _name(sc.tree, unit_code),
        "supervisor_code": overseer(sc.tree, unit_code, case.supervising_code),
        "start_date": start,
        "due_date": due,
        "status": "open",
        "met_at": None,
        "stage_done": -1,
        "next_check": first_check(due, sc.reminder_days),
        "created_at": now,
    }
    uow.add(deadlines, row)
    return row


async def _close_deadline(session: AsyncSession, case_id: str, kind: str, now: datetime) -> None:
    await session.execute(
        update(deadlines)
        .where(
            deadlines.c.case_id == case_id, deadlines.c.kind == kind, deadlines.c.status == "open"
        )
        .values(status="met", met_at=now, next_check=None)
    )


async def deadline_summaries(session: AsyncSession, case_id: str) -> list[DeadlineSummary]:
    rows = await session.execute(
        select(deadlines.c.kind, deadlines.c.label, deadlines.c.due_date, deadlines.c.status)
        .where(deadlines.c.case_id == case_id)
        .order_by(deadlines.c.created_at, deadlines.c.due_date)
    )
    return [
        DeadlineSummary(kind=r.kind, label=r.label, due_date=r.due_date, status=r.status)
        for r in rows
    ]


def next_step(sc: SupervisionContext, case: Any, state: State, open_dues: dict[str, date]) -> str:
    p = sc.profiles[case.profile]

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
        window = p["review_request_window"].due(local_date(case.replied_at), calendar=sc.calendar)
        return f"如不服处理意见，可于{d(window)}前向上一级机关申请复查"
    if state is State.REVIEW_REQUESTED:
        return f"复查机关应于{d(open_dues.get('review_answer'))}前作出复查意见"
    if state is State.REVIEW_ANSWERED and case.review_answered_at:
        window = p["rereview_request_window"].due(
            local_date(case.review_answered_at), calendar=sc.calendar
        )
        return f"如不服复查意见，可于{d(window)}前向复查机关的上一级机关申请复核"
    if state is State.REREVIEW_REQUESTED:
        return f"复核机关应于{d(open_dues.get('rereview_answer'))}前作出复核意见"
    if state is State.FINAL:
        return "复核意见为最终意见，同一事实和理由提出的信访事项不再受理"
    return ""


async def announce(
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    old: str | None,
    actor: str,
    note: str,
    now: datetime,
) -> None:
    """Tell everyone (intake shows it to the petitioner) the state, deadlines and next step."""
    await uow.flush()  # deadlines staged in this transaction must be visible to the summary
    case = await get_case_or_raise(session=uow.session, case_id=case_id)
    summaries = await deadline_summaries(uow.session, case_id)
    open_dues = {s.kind: s.due_date for s in summaries if s.status == "open"}
    state = State(case.status)
    _emit(
        uow,
        CaseStatusChanged(
            case_id=case.case_id,
            case_number=case.case_number,
            old_status=old,
            new_status=state.value,
            status_label=LABELS[state],
            changed_at=now,
            actor=actor,
            note=note,
            deadlines=summaries,
            next_step=next_step(sc, case, state, open_dues),
            handling_unit_name=case.unit_name,
        ),
        now,
    )


def add_history(
    uow: UnitOfWork,
    case_id: str,
    *,
    at: datetime,
    actor: str,
    action: str,
    frm: str | None,
    to: str | None,
    note: str,
    detail: dict[str, Any] | None = None,
) -> None:
    uow.add(
        history,
        {
            "case_id": case_id,
            "at": at,
            "actor": actor,
            "action": action,
            "from_state": frm,
            "to_state": to,
            "note": note,
            "detail": detail,
        },
    )


# --- events in ----------------------------------------------------------------------------


async def on_routed(
    *, uow: UnitOfWork, sc: SupervisionContext, routed: CaseRouted, now: datetime
) -> None:
    """The final hop: the handling body has the case. Open it (or move it on re-routing)."""
    session = uow.session
    await labels.remember_category(session, routed.category, routed.category_name)
    existing = (
        await session.execute(select(cases).where(cases.c.case_id == routed.case_id))
    ).first()
    if existing is not None:
        await session.execute(
            update(cases)
            .where(cases.c.case_id == routed.case_id)
            .values(
                unit_code=routed.to_unit_code,
                unit_name=routed.to_unit_name,
                supervising_code=routed.supervising_code or existing.supervising_code,
                updated_at=now,
            )
        )
        triage_open = (
            await session.execute(
                select(deadlines.c.id).where(
                    deadlines.c.case_id == routed.case_id,
                    deadlines.c.kind == "triage",
                    deadlines.c.status == "open",
                )
            )
        ).first()
        if triage_open is not None and not routed.needs_manual_triage:
            # triaged by hand and sent on: A22 met; the receiving body's 15 days start now
            await _close_deadline(session, routed.case_id, "triage", now)
            _add_deadline(
                uow,
                sc,
                existing,
                kind="acceptance_notice",
                start=local_date(routed.routed_at),
                unit_code=routed.to_unit_code,
                now=now,
            )
        else:
            await session.execute(
                update(deadlines)
                .where(deadlines.c.case_id == routed.case_id, deadlines.c.status == "open")
                .values(
                    unit_code=routed.to_unit_code,
                    unit_name=routed.to_unit_name,
                    # who oversees it follows the holder (a case returned to its petition office
                    # is overseen from the level above, not by the office itself)
                    supervisor_code=overseer(
                        sc.tree,
                        routed.to_unit_code,
                        routed.supervising_code or existing.supervising_code,
                    ),
                )
            )
        add_history(
            uow,
            routed.case_id,
            at=now,
            actor=routed.actor,
            action=routed.action,
            frm=existing.status,
            to=existing.status,
            note=f"{routed.action}至{routed.to_unit_name}：{routed.reason}",
        )
        await announce(
            uow,
            sc,
            routed.case_id,
            existing.status,
            routed.actor,
            f"{routed.action}至{routed.to_unit_name}",
            now,
        )
        return
    row = {
        "case_id": routed.case_id,
        "case_number": routed.case_number,
        "profile": sc.profile,
        "status": State.ROUTED.value,
        "unit_code": routed.to_unit_code,
        "unit_name": routed.to_unit_name,
        "supervising_code": routed.supervising_code,
        "category": routed.category,
        "received_at": routed.received_at,
        "routed_at": routed.routed_at,
        "accepted_at": None,
        "replied_at": None,
        "reply_outcome": None,
        "review_answered_at": None,
        "extension_days": 0,
        "leader": None,
        "repeat_count": 1,
        "escalations": 0,
        "backlog": False,
        "backlog_reasons": None,
        "updated_at": now,
    }
    uow.add(cases, row)
    case = SimpleNamespace(**row)
    if routed.place_code and routed.category and sc.owns(routed.place_code):
        # one level counts a place's items (群体性苗头): the one that serves the place
        emerging.feed(uow, outbox, routed, now)
    if routed.needs_manual_triage:
        # no rule decided who handles it: the petition office must triage it by hand within
        # A22's 15 days from receipt; reminders, 督办 and escalation apply as to any deadline
        _add_deadline(
            uow,
            sc,
            case,
            kind="triage",
            start=local_date(routed.received_at),
            unit_code=routed.to_unit_code,
            now=now,
        )
    else:
        _add_deadline(
            uow,
            sc,
            case,
            kind="acceptance_notice",
            start=local_date(routed.routed_at),
            unit_code=routed.to_unit_code,
            now=now,
        )
    add_history(
        uow,
        routed.case_id,
        at=now,
        actor=routed.actor,
        action="routed",
        frm=None,
        to=State.ROUTED.value,
        note=f"{routed.from_unit_name}{routed.action}至{routed.to_unit_name}",
    )
    await uow.flush()
    await announce(
        uow, sc, routed.case_id, None, routed.actor, f"已转送{routed.to_unit_name}办理", now
    )


async def on_linked(
    *, uow: UnitOfWork, sc: SupervisionContext, linked: CaseLinked, now: datetime
) -> None:
    """A repeat arrived: the original's repeat count rises (3+ makes it a 积案), and a wave of
    repeats within a few days raises ``alert.repeat_wave`` (once per wave)."""
    session = uow.session
    result = await session.execute(
        update(cases)
        .where(cases.c.case_id == linked.linked_case_id)
        .values(repeat_count=linked.repeat_count, updated_at=now)
        .returning(cases.c.case_id, cases.c.unit_code, cases.c.supervising_code)
    )
    original = result.first()
    if original is not None and linked.repeat_count >= 3:
        await _mark_backlog(session, linked.linked_case_id, f"重复信访{linked.repeat_count}次")
    if linked.match != "重复信访":
        return  # 一信多投 is one letter sent to several offices, not a wave
    if not sc.owns(original.unit_code if original is not None else linked.holder_code):
        return  # the level that runs the case counts its waves
    await session.execute(
        insert(repeat_arrivals).values(
            item_case_id=linked.case_id,
            case_id=linked.linked_case_id,
            item_case_number=linked.case_number,
            arrived_at=linked.linked_at,
        )
    )
    since = linked.linked_at - timedelta(days=sc.repeat_wave_days)
    arrivals = (
        await session.execute(
            select(func.count())
            .select_from(repeat_arrivals)
            .where(repeat_arrivals.c.case_id == linked.linked_case_id)
            .where(repeat_arrivals.c.arrived_at > since)
        )
    ).scalar_one()
    if arrivals < sc.repeat_wave_threshold:
        return
    recent = (
        await session.execute(
            select(repeat_wave_alerts.c.id)
            .where(repeat_wave_alerts.c.case_id == linked.linked_case_id)
            .where(repeat_wave_alerts.c.raised_at > now - timedelta(days=sc.repeat_wave_days))
        )
    ).first()
    if recent is not None:
        return  # this wave was already reported
    await session.execute(
        insert(repeat_wave_alerts).values(
            case_id=linked.linked_case_id, arrivals=arrivals, raised_at=now
        )
    )
    _emit(
        uow,
        RepeatWaveAlert(
            case_id=linked.linked_case_id,
            case_number=linked.linked_case_number,
            arrivals=arrivals,
            window_days=sc.repeat_wave_days,
            latest_case_number=linked.case_number,
            holder_code=original.unit_code if original is not None else linked.holder_code,
            supervising_code=original.supervising_code if original is not None else None,
            raised_at=now,
        ),
        now,
    )


async def _mark_backlog(session: AsyncSession, case_id: str, reason: str) -> None:
    row = (
        await session.execute(select(cases.c.backlog_reasons).where(cases.c.case_id == case_id))
    ).first()
    reasons = list(row.backlog_reasons or []) if row else []
    if reason not in reasons:
        reasons.append(reason)
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(backlog=True, backlog_reasons=reasons)
    )


# --- the lifecycle ------------------------------------------------------------------------


async def get_case_or_raise(*, session: AsyncSession, case_id: str) -> Any:
    row = (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()
    if row is None:
        raise CaseNotFound(case_id)
    return row


async def owned_case_or_raise(
    *, session: AsyncSession, sc: SupervisionContext, case_id: str
) -> Any:
    """The case, if this level runs it; :class:`Refused` (409) for a case another level runs:
    its state changes there, and this level's copy follows."""
    case = await get_case_or_raise(session=session, case_id=case_id)
    if not sc.owns(case.unit_code):
        raise Refused(
            f"本案由{_name(sc.tree, case.unit_code)}所在层级的系统办理，请在该级系统中操作",
            "another level's deployment runs this case: act there",
            handled_by=case.unit_code,
        )
    return case


def _check_extension_days(profile: Profile, days: int) -> None:
    limit = profile["max_extension"].days
    if not 1 <= days <= limit:
        raise Refused(f"延长期限应为1至{limit}日", f"extension must be 1..{limit} days", status=422)


async def pending_extension(session: AsyncSession, case_id: str) -> Any:
    return (
        await session.execute(
            select(extension_requests).where(
                extension_requests.c.case_id == case_id, extension_requests.c.decision.is_(None)
            )
        )
    ).first()


async def request_extension(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    days: int,
    reason: str,
    actor: str,
    now: datetime,
) -> Any:
    """A handler asks to extend the handling period (A34); a leader of the body approves it with
    the ``extend`` action."""
    session = uow.session
    case = await owned_case_or_raise(session=session, sc=sc, case_id=case_id)
    if case.status == State.EXTENDED:
        raise Refused("办理期限只能延长一次", "the handling period can be extended only once")
    if case.status != State.ACCEPTED:
        raise Refused(
            f"当前状态为“{LABELS[State(case.status)]}”，不能申请延期",
            f"cannot request an extension of a case that is {case.status}",
        )
    _require({"reason": reason}, "reason")
    _check_extension_days(sc.profiles[case.profile], days)
    if await pending_extension(session, case_id) is not None:
        raise Refused("已有待批准的延期申请", "an extension request is already pending")
    uow.add(
        extension_requests,
        {
            "case_id": case_id,
            "days": days,
            "reason": reason,
            "requested_by": actor,
            "requested_at": now,
            "decision": None,
            "decided_by": None,
            "decided_at": None,
        },
    )
    add_history(
        uow,
        case_id,
        at=now,
        actor=actor,
        action="request_extension",
        frm=case.status,
        to=case.status,
        note=f"申请延期{days}日，理由：{reason}，待本机关负责人批准",
    )
    await uow.flush()
    return await case_view(session=session, case_id=case_id)


def _require(req: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not str(req.get(n) or "").strip()]
    if missing:
        raise Refused(
            f"缺少必填项：{'、'.join(missing)}",
            f"missing: {', '.join(missing)}",
            status=422,
            fields=missing,
        )


async def transition(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    action: Action,
    req: dict[str, Any],
    now: datetime,
) -> Any:
    session = uow.session
    case = await owned_case_or_raise(session=session, sc=sc, case_id=case_id)
    old = State(case.status)
    try:
        new = next_state(old, action)
    except InvalidTransition as exc:
        raise Refused(exc.zh, exc.en) from None
    profile = sc.profiles[case.profile]
    today = local_date(now)
    actor = str(req.get("actor") or "").strip()
    _require(req, "actor")
    values: dict[str, Any] = {"status": new.value, "updated_at": now}
    note = ""
    if action in (Action.ACCEPT, Action.DECLINE):
        await _close_deadline(session, case_id, "triage", now)  # handled where it was triaged
    if action is Action.ACCEPT:
        await _close_deadline(session, case_id, "acceptance_notice", now)
        _add_deadline(
            uow, sc, case, kind="handling", start=today, unit_code=case.unit_code, now=now
        )
        values["accepted_at"] = now
        note = "已受理，并书面告知信访人"
    elif action is Action.DECLINE:
        _require(req, "reason")
        await _close_deadline(session, case_id, "acceptance_notice", now)
        note = f"不予受理，理由：{req['reason']}（已书面告知信访人）"
    elif action is Action.EXTEND:
        # approved by a leader of the body (the caller: permissions.py); the days and reason are
        # the handler's pending request unless the leader gives them
        pending = await pending_extension(session, case_id)
        days = int(req.get("days") or (pending.days if pending else 0))
        reason = str(req.get("reason") or (pending.reason if pending else ""))
        _require({"reason": reason}, "reason")
        _check_extension_days(profile, days)
        handling = (
            await session.execute(
                select(deadlines).where(
                    deadlines.c.case_id == case_id, deadlines.c.kind == "handling"
                )
            )
        ).one()
        due = profile["handling"].due(handling.start_date, days, calendar=sc.calendar)
        await session.execute(
            update(deadlines)
            .where(deadlines.c.id == handling.id)
            .values(due_date=due, stage_done=-1, next_check=first_check(due, sc.reminder_days))
        )
        if pending is not None:
            await session.execute(
                update(extension_requests)
                .where(extension_requests.c.id == pending.id)
                .values(decision="approved", decided_by=actor, decided_at=now)
            )
        values["extension_days"] = days
        req = {**req, "days": days, "reason": reason, "approver": actor}
        note = f"经{actor}批准延期{days}日至{due:%Y年%m月%d日}，理由：{reason}（已告知信访人）"
    elif action is Action.REPLY:
        _require(req, "outcome", "facts", "reasons", "legal_basis")
        if req["outcome"] not in REPLY_OUTCOMES:
            raise Refused(
                f"处理意见应为：{'、'.join(sorted(REPLY_OUTCOMES))}",
                "outcome must be one of " + ", ".join(sorted(REPLY_OUTCOMES)),
                status=422,
            )
        await _close_deadline(session, case_id, "handling", now)
        values.update(replied_at=now, reply_outcome=req["outcome"])
        note = f"出具信访处理意见书：{req['outcome']}"
    elif action is Action.CLOSE:
        note = "办结"
    elif action is Action.REQUEST_REVIEW:
        window = profile["review_request_window"].due(
            local_date(case.replied_at), calendar=sc.calendar
        )
        if today > window:
            raise Refused(
                f"复查申请期限已于{window:%Y年%m月%d日}届满（收到处理意见书之日起30日内）",
                f"the review request window closed on {window.isoformat()}",
                window_closed_on=window.isoformat(),
            )
        reviewer = office_above(sc.tree, case.unit_code) or case.unit_code
        _add_deadline(uow, sc, case, kind="review_answer", start=today, unit_code=reviewer, now=now)
        note = f"信访人申请复查，由{_name(sc.tree, reviewer)}复查"
    elif action is Action.ANSWER_REVIEW:
        _require(req, "outcome")
        await _close_deadline(session, case_id, "review_answer", now)
        values["review_answered_at"] = now
        note = f"出具复查意见：{req['outcome']}"
    elif action is Action.REQUEST_REREVIEW:
        window = profile["rereview_request_window"].due(
            local_date(case.review_answered_at), calendar=sc.calendar
        )
        if today > window:
            raise Refused(
                f"复核申请期限已于{window:%Y年%m月%d日}届满（收到复查意见之日起30日内）",
                f"the re-review request window closed on {window.isoformat()}",
                window_closed_on=window.isoformat(),
            )
        reviewer = office_above(sc.tree, case.unit_code) or case.unit_code
        rereviewer = office_above(sc.tree, reviewer) or reviewer
        _add_deadline(
            uow, sc, case, kind="rereview_answer", start=today, unit_code=rereviewer, now=now
        )
        note = f"信访人申请复核，由{_name(sc.tree, rereviewer)}复核"
    elif action is Action.ANSWER_REREVIEW:
        _require(req, "outcome")
        await _close_deadline(session, case_id, "rereview_answer", now)
        note = f"出具复核意见：{req['outcome']}。该事项终结"
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(**values))
    detail = {k: v for k, v in req.items() if k != "actor"}
    add_history(
        uow,
        case_id,
        at=now,
        actor=actor,
        action=action.value,
        frm=old.value,
        to=new.value,
        note=note,
        detail=detail or None,
    )
    await announce(uow, sc, case_id, old.value, actor, note, now)
    return await case_view(session=session, case_id=case_id)


async def add_hearing_days(
    *, uow: UnitOfWork, sc: SupervisionContext, case_id: str, days: int, actor: str, now: datetime
) -> Any:
    """A36: the time a hearing takes is not counted in the re-review's 30 days."""
    session = uow.session
    case = await owned_case_or_raise(session=session, sc=sc, case_id=case_id)
    if case.status != State.REREVIEW_REQUESTED:
        raise Refused("仅复核期间可举行听证", "hearings belong to a re-review in progress")
    if not 1 <= days <= 90:
        raise Refused("听证天数应为1至90日", "hearing days must be 1..90", status=422)
    row = (
        await session.execute(
            select(deadlines).where(
                deadlines.c.case_id == case_id, deadlines.c.kind == "rereview_answer"
            )
        )
    ).one()
    due = row.due_date + timedelta(days=days)
    await session.execute(
        update(deadlines)
        .where(deadlines.c.id == row.id)
        .values(due_date=due, next_check=first_check(due, sc.reminder_days))
    )
    add_history(
        uow,
        case_id,
        at=now,
        actor=actor,
        action="hearing",
        frm=case.status,
        to=case.status,
        note=f"举行听证{days}日，不计入复核期限，复核期限顺延至{due:%Y年%m月%d日}",
    )
    return await case_view(session=session, case_id=case_id)


async def name_leader(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    leader: str,
    actor: str,
    now: datetime,
) -> Any:
    session = uow.session
    case = await owned_case_or_raise(session=session, sc=sc, case_id=case_id)
    await session.execute(
        update(cases).where(cases.c.case_id == case_id).values(leader=leader, updated_at=now)
    )
    add_history(
        uow,
        case_id,
        at=now,
        actor=actor,
        action="leader",
        frm=case.status,
        to=case.status,
        note=f"确定包案领导：{leader}",
    )
    _emit(
        uow,
        CaseLeaderNamed(
            case_id=case_id,
            case_number=case.case_number,
            leader=leader,
            actor=actor,
            named_at=now,
        ),
        now,
    )
    return await case_view(session=session, case_id=case_id)


async def order_feedback(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    order_id: str,
    text: str,
    actor: str,
    now: datetime,
) -> Any:
    session = uow.session
    row = (await session.execute(select(orders).where(orders.c.id == order_id))).first()
    if row is None:
        raise CaseNotFound(order_id)
    case = await owned_case_or_raise(session=session, sc=sc, case_id=row.case_id)
    if row.feedback_at is not None:
        raise Refused("该督办单已反馈", "feedback already given")
    await session.execute(
        update(orders).where(orders.c.id == order_id).values(feedback_at=now, feedback=text)
    )
    add_history(
        uow,
        row.case_id,
        at=now,
        actor=actor,
        action="order_feedback",
        frm=None,
        to=None,
        note=f"督办反馈：{text}",
    )
    _emit(
        uow,
        SupervisionFeedbackGiven(
            case_id=row.case_id,
            case_number=case.case_number,
            order_id=order_id,
            feedback=text,
            actor=actor,
            given_at=now,
        ),
        now,
    )
    return await case_view(session=session, case_id=row.case_id)


async def case_view(*, session: AsyncSession, case_id: str) -> dict[str, Any]:
    case = await get_case_or_raise(session=session, case_id=case_id)
    view = labels.label_case(dict(case._mapping), await labels.category_names(session))
    view["deadlines"] = await list_deadlines(session=session, case_id=case_id)
    view["history"] = [
        {**r._mapping, "action_label": labels.action_label(r.action)}
        for r in await session.execute(
            select(history).where(history.c.case_id == case_id).order_by(history.c.id)
        )
    ]
    view["extension_requests"] = [
        dict(r._mapping)
        for r in await session.execute(
            select(extension_requests)
            .where(extension_requests.c.case_id == case_id)
            .order_by(extension_requests.c.id)
        )
    ]
    view["orders"] = [
        dict(r._mapping)
        for r in await session.execute(
            select(orders).where(orders.c.case_id == case_id).order_by(orders.c.issued_at)
        )
    ]
    return view


async def list_deadlines(*, session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(deadlines)
            .where(deadlines.c.case_id == case_id)
            .order_by(deadlines.c.created_at, deadlines.c.due_date)
        )
    ).all()
    result = []
    for r in rows:
        sent = await session.execute(
            select(notices.c.kind, notices.c.stage, notices.c.sent_at)
            .where(notices.c.deadline_id == r.id)
            .order_by(notices.c.stage)
        )
        result.append(
            {
                **r._mapping,
                "status_label": labels.deadline_status_label(r.status),
                "notices": [
                    {**n._mapping, "kind_label": labels.notice_kind_label(n.kind)} for n in sent
                ],
            }
        )
    return result


# --- the sweep ----------------------------------------------------------------------------


async def sweep_batch(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    today: date,
    now: datetime,
    batch: int,
    skip_locked: bool,
) -> int:
    """Act on what is due today for up to ``batch`` deadlines; returns how many were examined."""
    session = uow.session
    q = (
        select(deadlines, cases.c.leader, cases.c.escalations)
        .join(cases, cases.c.case_id == deadlines.c.case_id)
        .where(deadlines.c.status == "open", deadlines.c.next_check <= today)
        .order_by(deadlines.c.next_check)
        .limit(batch)
    )
    owned = sc.owned_codes()
    if owned is not None:
        # the deadlines of cases another level runs are watched here, acted on there
        q = q.where(deadlines.c.unit_code.in_(sorted(owned)))
    if skip_locked:
        q = q.with_for_update(of=deadlines, skip_locked=True)
    rows = (await session.execute(q)).all()
    updates: list[dict[str, Any]] = []
    for d in rows:
        notice, nxt = next_notice(
            d.due_date, today, sc.reminder_days, d.stage_done, sc.grace_days, sc.max_escalations
        )
        supervisor = d.supervisor_code
        if notice is not None:
            event_id = await _act(uow, sc, d, notice, today, now)
            if notice.kind == "escalation":
                supervisor = event_id[1] or supervisor
            uow.add(
                notices,
                {
                    "deadline_id": d.id,
                    "stage": notice.stage,
                    "kind": notice.kind,
                    "event_id": event_id[0],
                    "sent_at": now,
                },
            )
            sc.stats["notices"] += 1
        updates.append(
            {
                "b_id": d.id,
                "b_stage": notice.stage if notice else d.stage_done,
                "b_next": nxt,
                "b_sup": supervisor,
            }
        )
    if updates:
        await session.execute(
            update(deadlines)
            .where(deadlines.c.id == bindparam("b_id"))
            .values(
                stage_done=bindparam("b_stage"),
                next_check=bindparam("b_next"),
                supervisor_code=bindparam("b_sup"),
            ),
            updates,
            execution_options={"synchronize_session": False},
        )
    return len(rows)


async def _act(
    uow: UnitOfWork, sc: SupervisionContext, d: Any, notice: Any, today: date, now: datetime
) -> tuple[str, str | None]:
    common: dict[str, Any] = {
        "case_id": d.case_id,
        "case_number": d.case_number,
        "deadline_id": d.id,
        "deadline_kind": d.kind,
        "deadline_label": d.label,
        "unit_code": d.unit_code,
        "unit_name": d.unit_name,
        "due_date": d.due_date,
        "days_left": (d.due_date - today).days,
        "supervisor_code": d.supervisor_code,
        "leader": d.leader,
    }
    if notice.kind == "reminder":
        data: EventData = DeadlineReminder(days_before=notice.days_before, **common)
        env = new_event(data=data, source=SOURCE, time=now)
        uow.emit(outbox, env, topic=data.TOPIC, now=now)
        return env.id, None
    if notice.kind == "overdue":
        data = DeadlineOverdue(days_overdue=(today - d.due_date).days, **common)
        env = new_event(data=data, source=SOURCE, time=now)
        uow.emit(outbox, env, topic=data.TOPIC, now=now)
        issuer = d.supervisor_code
        if issuer is None or issuer == d.unit_code:
            issuer = overseer(sc.tree, d.unit_code, None)
        if issuer is None or issuer == d.unit_code:
            # the top of the tree holds it: nobody above issues a 督办 order (the overdue
            # notice above reaches its own leadership)
            return env.id, None
        feedback_due = sc.profiles[sc.profile]["supervision_feedback"].due(
            today, calendar=sc.calendar
        )
        order_id = str(uuid.uuid4())
        uow.add(
            orders,
            {
                "id": order_id,
                "case_id": d.case_id,
                "deadline_id": d.id,
                "issued_by": issuer,
                "issued_to": d.unit_code,
                "issued_at": now,
                "feedback_due": feedback_due,
                "feedback_at": None,
                "feedback": None,
            },
        )
        _emit(
            uow,
            SupervisionOrderIssued(
                case_id=d.case_id,
                case_number=d.case_number,
                order_id=order_id,
                issued_by=issuer,
                issued_by_name=_name(sc.tree, issuer),
                issued_to=d.unit_code,
                issued_to_name=d.unit_name,
                deadline_label=d.label,
                due_date=d.due_date,
                feedback_due=feedback_due,
                issued_at=now,
                leader=d.leader,
            ),
            now,
        )
        add_history(
            uow,
            d.case_id,
            at=now,
            actor="supervision",
            action="supervision_order",
            frm=None,
            to=None,
            note=f"{d.label}已超期，{_name(sc.tree, issuer)}向{d.unit_name}发出督办单，限{feedback_due:%Y年%m月%d日}前书面反馈",
        )
        return env.id, None
    # escalation: one level further up
    current = d.supervisor_code or office_above(sc.tree, d.unit_code)
    up = office_above(sc.tree, current)
    if up is None:
        return str(uuid.uuid4()), None  # already at the top of this tree: nothing to send
    count = int(d.escalations or 0) + 1
    data = CaseEscalated(
        case_id=d.case_id,
        case_number=d.case_number,
        from_unit_code=current or d.unit_code,
        to_unit_code=up,
        to_unit_name=_name(sc.tree, up),
        handling_unit_code=d.unit_code,
        handling_unit_name=d.unit_name,
        reason=f"{d.label}超期{(today - d.due_date).days}天仍未办结，提级督办",
        escalated_at=now,
        escalation=notice.escalation,
        leader=d.leader,
    )
    env = new_event(data=data, source=SOURCE, time=now)
    uow.emit(outbox, env, topic=data.TOPIC, now=now)
    await uow.session.execute(
        update(cases).where(cases.c.case_id == d.case_id).values(escalations=count)
    )
    add_history(
        uow,
        d.case_id,
        at=now,
        actor="supervision",
        action="escalated",
        frm=None,
        to=None,
        note=f"提级至{_name(sc.tree, up)}督办（第{notice.escalation}次）",
    )
    if count >= 2:
        await _mark_backlog(uow.session, d.case_id, f"提级督办{count}次")
    return env.id, up


async def mark_old_cases_backlog(
    *, session: AsyncSession, sc: SupervisionContext, now: datetime
) -> int:
    cutoff = now - timedelta(days=sc.backlog_after_days)
    rows = (
        await session.execute(
            select(cases.c.case_id).where(
                cases.c.status.in_([s.value for s in open_states()]),
                cases.c.received_at < cutoff,
                cases.c.backlog.is_(False),
            )
        )
    ).all()
    for r in rows:
        await _mark_backlog(session, r.case_id, f"超过{sc.backlog_after_days}日未办结")
    return len(rows)


# --- reports ------------------------------------------------------------------------------


async def overdue_report(*, session: AsyncSession, today: date) -> list[dict[str, Any]]:
    """通报: open deadlines past their due date, grouped by the unit that holds them."""
    rows = (
        await session.execute(
            select(deadlines, cases.c.status, cases.c.leader, cases.c.backlog)
            .join(cases, cases.c.case_id == deadlines.c.case_id)
            .where(deadlines.c.status == "open", deadlines.c.due_date < today)
            .order_by(deadlines.c.unit_code, deadlines.c.due_date)
        )
    ).all()
    units: dict[str, dict[str, Any]] = {}
    for r in rows:
        u = units.setdefault(
            r.unit_code, {"unit_code": r.unit_code, "unit_name": r.unit_name, "overdue": []}
        )
        u["overdue"].append(
            {
                "case_id": r.case_id,
                "case_number": r.case_number,
                "deadline": r.label,
                "due_date": r.due_date.isoformat(),
                "days_overdue": (today - r.due_date).days,
                "leader": r.leader,
                "backlog": r.backlog,
            }
        )
    return sorted(units.values(), key=lambda u: -len(u["overdue"]))


async def units_of_cases(*, session: AsyncSession, case_ids: set[str]) -> dict[str, str]:
    """case id → the unit handling it, for the given cases."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(cases.c.case_id, cases.c.unit_code).where(cases.c.case_id.in_(sorted(case_ids)))
    )
    return {r.case_id: r.unit_code for r in rows}


async def order_recipient(*, session: AsyncSession, order_id: str) -> str | None:
    row = (await session.execute(select(orders.c.issued_to).where(orders.c.id == order_id))).first()
    return None if row is None else str(row.issued_to)


async def case_of_order_or_none(*, session: AsyncSession, order_id: str) -> str | None:
    row = (await session.execute(select(orders.c.case_id).where(orders.c.id == order_id))).first()
    return None if row is None else str(row.case_id)


async def list_cases(*, session: AsyncSession, status: str | None = None) -> list[Any]:
    """Cases, most recently routed first (the caller filters them by scope)."""
    q = select(cases).order_by(cases.c.routed_at.desc())
    if status:
        q = q.where(cases.c.status == status)
    return list((await session.execute(q)).all())


async def backlog_cases(*, session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(cases).where(cases.c.backlog.is_(True)).order_by(cases.c.received_at)
    )
    return [dict(r._mapping) for r in rows]
