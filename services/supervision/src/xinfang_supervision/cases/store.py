"""The cases in the database: load a :class:`~xinfang_supervision.cases.domain.Case`, apply the
domain events (rows, history, the outbox through :meth:`UnitOfWork.emit`), and the queries
behind the lists, views, reports and the sweep. The one module of supervision that reads and
writes the case tables. Never commits: the caller does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseBacklogMarked,
    CaseLeaderNamed,
    CaseStatusChanged,
    DeadlineSummary,
    EventData,
    SupervisionFeedbackGiven,
    new_event,
)

from xinfang_supervision.cases import aggregate as agg
from xinfang_supervision.cases import events as ev
from xinfang_supervision.lifecycle import LABELS, State, open_states
from xinfang_supervision.models import (
    cases,
    deadlines,
    extension_requests,
    history,
    notices,
    orders,
    outbox,
)

SOURCE = "/xinfang/supervision"


def emit(uow: UnitOfWork, data: EventData, now: datetime) -> str:
    """Stage an event for the relay (published after commit); its id."""
    envelope = new_event(data=data, source=SOURCE, time=now)
    uow.emit(outbox, envelope, now=now)
    return envelope.id


# --- loading the aggregate --------------------------------------------------------------------


def _deadline(r: Any) -> agg.Deadline:
    return agg.Deadline(
        id=r.id,
        kind=r.kind,
        label=r.label,
        basis=r.basis,
        unit_code=r.unit_code,
        unit_name=r.unit_name,
        supervisor_code=r.supervisor_code,
        start_date=r.start_date,
        due_date=r.due_date,
        status=r.status,
        stage_done=r.stage_done,
        next_check=r.next_check,
        met_at=r.met_at,
    )


async def load(session: AsyncSession, case_id: str) -> agg.Case | None:
    """The case with its deadlines, 督办 orders and pending extension request; None if absent."""
    row = (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()
    if row is None:
        return None
    dls = await session.execute(
        select(deadlines)
        .where(deadlines.c.case_id == case_id)
        .order_by(deadlines.c.created_at, deadlines.c.due_date)
    )
    ords = await session.execute(
        select(orders).where(orders.c.case_id == case_id).order_by(orders.c.issued_at)
    )
    pending = (
        await session.execute(
            select(extension_requests).where(
                extension_requests.c.case_id == case_id, extension_requests.c.decision.is_(None)
            )
        )
    ).first()
    own = {k: v for k, v in row._mapping.items() if k in _CASE_FIELDS}
    own |= {
        "status": State(row.status),
        "extension_days": int(row.extension_days or 0),
        "repeat_count": int(row.repeat_count or 1),
        "escalations": int(row.escalations or 0),
        "backlog": bool(row.backlog),
        "backlog_reasons": list(row.backlog_reasons or []),
    }
    return agg.Case(
        **own,
        deadlines=[_deadline(r) for r in dls],
        orders=[
            agg.Order(
                id=o.id,
                issued_by=o.issued_by,
                issued_to=o.issued_to,
                issued_at=o.issued_at,
                feedback_due=o.feedback_due,
                deadline_id=o.deadline_id,
                feedback_at=o.feedback_at,
                feedback=o.feedback,
            )
            for o in ords
        ],
        pending_extension=None
        if pending is None
        else agg.ExtensionRequest(
            days=pending.days,
            reason=pending.reason,
            requested_by=pending.requested_by,
            requested_at=pending.requested_at,
            id=pending.id,
        ),
    )


# --- applying the events ----------------------------------------------------------------------


# the case row's columns that are fields of the aggregate
_CASE_FIELDS = frozenset(f.name for f in fields(agg.Case)) & set(cases.c.keys())


def _case_row(case: agg.Case, now: datetime) -> dict[str, Any]:
    return {
        **{name: getattr(case, name) for name in _CASE_FIELDS},
        "status": case.status.value,
        "backlog_reasons": case.backlog_reasons or None,
        "updated_at": now,
    }


def _deadline_row(case: agg.Case, dl: agg.Deadline, now: datetime) -> dict[str, Any]:
    return {
        "id": dl.id,
        "case_id": case.case_id,
        "case_number": case.case_number,
        "kind": dl.kind,
        "label": dl.label,
        "basis": dl.basis,
        "unit_code": dl.unit_code,
        "unit_name": dl.unit_name,
        "supervisor_code": dl.supervisor_code,
        "start_date": dl.start_date,
        "due_date": dl.due_date,
        "status": dl.status,
        "met_at": dl.met_at,
        "stage_done": dl.stage_done,
        "next_check": dl.next_check,
        "created_at": now,
    }


def _case_values(e: ev.Event) -> dict[str, Any]:
    """The case row's columns an event sets."""
    match e:
        case ev.StatusChanged(new=new):
            return {"status": new.value}
        case ev.Accepted(at=at):
            return {"accepted_at": at}
        case ev.Replied(at=at, outcome=outcome):
            return {"replied_at": at, "reply_outcome": outcome}
        case ev.ReviewAnswered(at=at):
            return {"review_answered_at": at}
        case ev.ExtensionGranted(days=days):
            return {"extension_days": days}
        case ev.HandlerChanged():
            return {
                "unit_code": e.unit_code,
                "unit_name": e.unit_name,
                "supervising_code": e.supervising_code,
            }
        case ev.EscalationsCounted(escalations=n):
            return {"escalations": n}
        case ev.LeaderNamed(leader=leader):
            return {"leader": leader, "leader_username": e.username}
        case ev.PlaceKnown(code=code, name=name):
            return {"place_code": code, "place_name": name}
    return {}


async def apply(
    uow: UnitOfWork, case: agg.Case, events: Iterable[ev.Event], *, now: datetime
) -> None:
    """Write what ``events`` say happened to ``case`` (as loaded, or as opened)."""
    session = uow.session
    values: dict[str, Any] = {}
    of_case = deadlines.c.case_id == case.case_id

    async def run(stmt: Any) -> None:
        await uow.flush()  # rows staged earlier in the transaction must be there to update
        await session.execute(stmt)

    for e in events:
        values |= _case_values(e)
        if isinstance(e, ev.DeadlineOpened | ev.DeadlineMet | ev.DeadlineMoved | ev.DeadlineSynced):
            values["next_due"] = _next_due(case.case_id)
        match e:
            case ev.CaseOpened(case=opened):
                uow.add(cases, _case_row(opened, now))
            case ev.DeadlineOpened(deadline=dl):
                uow.add(deadlines, _deadline_row(case, dl, now))
            case ev.DeadlineMet(kind=kind, at=at):
                await run(
                    update(deadlines)
                    .where(of_case, deadlines.c.kind == kind, deadlines.c.status == "open")
                    .values(status="met", met_at=at, next_check=None)
                )
            case ev.DeadlineMoved(kind=kind):
                moved: dict[str, Any] = {"due_date": e.due_date, "next_check": e.next_check}
                if e.stage_done is not None:
                    moved["stage_done"] = e.stage_done
                await run(
                    update(deadlines).where(of_case, deadlines.c.kind == kind).values(**moved)
                )
            case ev.DeadlineSynced(kind=kind):
                await run(
                    update(deadlines)
                    .where(of_case, deadlines.c.kind == kind)
                    .values(status=e.status, due_date=e.due_date, next_check=None)
                )
            case ev.OpenDeadlinesReassigned():
                await run(
                    update(deadlines)
                    .where(of_case, deadlines.c.status == "open")
                    .values(
                        unit_code=e.unit_code,
                        unit_name=e.unit_name,
                        supervisor_code=e.supervisor_code,
                    )
                )
            case ev.OpenDeadlinesSupervised(supervisor_code=code):
                await run(
                    update(deadlines)
                    .where(of_case, deadlines.c.status == "open")
                    .values(supervisor_code=code)
                )
            case ev.ExtensionRequested(request=r):
                uow.add(
                    extension_requests,
                    {
                        "case_id": case.case_id,
                        "days": r.days,
                        "reason": r.reason,
                        "requested_by": r.requested_by,
                        "requested_at": r.requested_at,
                        "decision": None,
                        "decided_by": None,
                        "decided_at": None,
                    },
                )
            case ev.ExtensionGranted(request_id=request_id) if request_id is not None:
                await run(
                    update(extension_requests)
                    .where(extension_requests.c.id == request_id)
                    .values(decision="approved", decided_by=e.approver, decided_at=e.at)
                )
            case ev.OrderIssued(order=o):
                uow.add(orders, _order_row(case.case_id, o))
            case ev.FeedbackGiven(order_id=order_id):
                await run(
                    update(orders)
                    .where(orders.c.id == order_id, orders.c.feedback_at.is_(None))
                    .values(feedback_at=e.at, feedback=e.text)
                )
                if e.publish:
                    emit(
                        uow,
                        SupervisionFeedbackGiven(
                            case_id=case.case_id,
                            case_number=case.case_number,
                            order_id=order_id,
                            feedback=e.text,
                            actor=e.actor,
                            given_at=e.at,
                        ),
                        now,
                    )
            case ev.LeaderNamed(publish=True):
                emit(
                    uow,
                    CaseLeaderNamed(
                        case_id=case.case_id,
                        case_number=case.case_number,
                        leader=e.leader,
                        actor=e.actor,
                        named_at=e.at,
                    ),
                    now,
                )
            case ev.Noted():
                add_history(uow, case.case_id, e)
            case ev.Announced():
                emit(uow, _status_changed(case, e), now)
    if values:
        await run(
            update(cases).where(cases.c.case_id == case.case_id).values(**values, updated_at=now)
        )


def _next_due(case_id: str) -> Any:
    """The due date of the case's first open deadline, as SQL (kept on the case row)."""
    return (
        select(func.min(deadlines.c.due_date))
        .where(deadlines.c.case_id == case_id, deadlines.c.status == "open")
        .scalar_subquery()
    )


def _order_row(case_id: str, o: agg.Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "case_id": case_id,
        "deadline_id": o.deadline_id,
        "issued_by": o.issued_by,
        "issued_to": o.issued_to,
        "issued_at": o.issued_at,
        "feedback_due": o.feedback_due,
        "feedback_at": o.feedback_at,
        "feedback": o.feedback,
    }


def _status_changed(case: agg.Case, e: ev.Announced) -> CaseStatusChanged:
    return CaseStatusChanged(
        case_id=case.case_id,
        case_number=case.case_number,
        old_status=e.old_status,
        new_status=e.new_status.value,
        status_label=LABELS[e.new_status],
        changed_at=e.at,
        actor=e.actor,
        note=e.note,
        deadlines=[
            DeadlineSummary(kind=s.kind, label=s.label, due_date=s.due_date, status=s.status)
            for s in e.deadlines
        ],
        next_step=e.next_step,
        handling_unit_name=e.handling_unit_name,
    )


def add_history(uow: UnitOfWork, case_id: str, n: ev.Noted) -> None:
    uow.add(
        history,
        {
            "case_id": case_id,
            "at": n.at,
            "actor": n.actor,
            "action": n.action,
            "from_state": n.from_state,
            "to_state": n.to_state,
            "note": n.note,
            "detail": n.detail,
        },
    )


# --- the case's other counters ----------------------------------------------------------------


async def set_repeat_count(
    session: AsyncSession, case_id: str, count: int, now: datetime
) -> Row[Any] | None:
    """The original of a repeat: its count; returns (case_id, unit_code, supervising_code)."""
    result = await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(repeat_count=count, updated_at=now)
        .returning(cases.c.case_id, cases.c.unit_code, cases.c.supervising_code)
    )
    return result.first()


async def mark_backlog(uow: UnitOfWork, case_id: str, reason: str, now: datetime) -> bool:
    """积案: the case joins the backlog with the reason (once); a new reason is published
    (case.backlog, in the caller's transaction). Whether the reason was new."""
    c = cases.c
    query = select(c.case_number, c.unit_code, c.backlog_reasons).where(c.case_id == case_id)
    row = (await uow.session.execute(query)).first()
    if row is None or reason in (row.backlog_reasons or []):
        return False
    reasons = [*(row.backlog_reasons or []), reason]
    await uow.session.execute(
        update(cases).where(c.case_id == case_id).values(backlog=True, backlog_reasons=reasons)
    )
    data = CaseBacklogMarked(
        case_id=case_id,
        case_number=row.case_number,
        reason=reason,
        marked_at=now,
        handling_unit_code=row.unit_code,
    )
    emit(uow, data, now)
    return True


async def old_open_cases(session: AsyncSession, received_before: datetime) -> list[str]:
    """Open cases received before the cutoff not yet in the backlog."""
    rows = await session.execute(
        select(cases.c.case_id).where(
            cases.c.status.in_([s.value for s in open_states()]),
            cases.c.received_at < received_before,
            cases.c.backlog.is_(False),
        )
    )
    return [r.case_id for r in rows]


# --- the sweep --------------------------------------------------------------------------------


async def due_deadlines(
    session: AsyncSession,
    *,
    today: date,
    batch: int,
    owned: frozenset[str] | None,
    skip_locked: bool,
) -> Sequence[Row[Any]]:
    """Up to ``batch`` open deadlines to look at today, with their case's leader and
    escalations; only those of units this level owns (``owned`` None: all)."""
    q = (
        select(deadlines, cases.c.leader, cases.c.escalations)
        .join(cases, cases.c.case_id == deadlines.c.case_id)
        .where(deadlines.c.status == "open", deadlines.c.next_check <= today)
        .order_by(deadlines.c.next_check)
        .limit(batch)
    )
    if owned is not None:
        # the deadlines of cases another level runs are watched here, acted on there
        q = q.where(deadlines.c.unit_code.in_(sorted(owned)))
    if skip_locked:
        q = q.with_for_update(of=deadlines, skip_locked=True)
    return (await session.execute(q)).all()


def add_notice(
    uow: UnitOfWork, *, deadline_id: str, stage: int, kind: str, event_id: str, now: datetime
) -> None:
    uow.add(
        notices,
        {
            "deadline_id": deadline_id,
            "stage": stage,
            "kind": kind,
            "event_id": event_id,
            "sent_at": now,
        },
    )


def add_order(uow: UnitOfWork, case_id: str, order: agg.Order) -> None:
    uow.add(orders, _order_row(case_id, order))


async def set_escalations(session: AsyncSession, case_id: str, count: int) -> None:
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(escalations=count))


async def record_sweep(session: AsyncSession, updates: list[dict[str, Any]]) -> None:
    """Each examined deadline's stage done, next check and supervisor, in one statement:
    ``{"b_id", "b_stage", "b_next", "b_sup"}`` per deadline."""
    if not updates:
        return
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


async def recalendar_candidates(
    session: AsyncSession, *, first: date, last: date, owned: frozenset[str] | None
) -> dict[str, set[str]]:
    """case id → the ids of its open, swept deadlines (this level's) whose period may touch the
    days from ``first`` to ``last``."""
    q = (
        select(deadlines.c.id, deadlines.c.case_id)
        .where(deadlines.c.status == "open", deadlines.c.next_check.is_not(None))
        .where(deadlines.c.due_date >= first)
        .where(deadlines.c.start_date <= last)
    )
    if owned is not None:
        q = q.where(deadlines.c.unit_code.in_(sorted(owned)))
    found: dict[str, set[str]] = {}
    for r in await session.execute(q):
        found.setdefault(r.case_id, set()).add(r.id)
    return found


# --- reading ----------------------------------------------------------------------------------


async def case_row(session: AsyncSession, case_id: str) -> Row[Any] | None:
    return (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()


async def case_rows(session: AsyncSession, *, status: str | None = None) -> Sequence[Row[Any]]:
    """Cases, most recently routed first."""
    q = select(cases).order_by(cases.c.routed_at.desc())
    if status:
        q = q.where(cases.c.status == status)
    return (await session.execute(q)).all()


async def backlog_rows(session: AsyncSession) -> Sequence[Row[Any]]:
    return (
        await session.execute(
            select(cases).where(cases.c.backlog.is_(True)).order_by(cases.c.received_at)
        )
    ).all()


async def deadline_rows(session: AsyncSession, case_id: str) -> list[tuple[Row[Any], list[Any]]]:
    """The case's deadlines, each with the notices sent for it."""
    rows = (
        await session.execute(
            select(deadlines)
            .where(deadlines.c.case_id == case_id)
            .order_by(deadlines.c.created_at, deadlines.c.due_date)
        )
    ).all()
    sent: dict[str, list[Any]] = {r.id: [] for r in rows}
    if rows:
        for n in await session.execute(
            select(notices.c.deadline_id, notices.c.kind, notices.c.stage, notices.c.sent_at)
            .where(notices.c.deadline_id.in_(list(sent)))
            .order_by(notices.c.stage)
        ):
            sent[n.deadline_id].append(n)
    return [(r, sent[r.id]) for r in rows]


async def history_rows(session: AsyncSession, case_id: str) -> Sequence[Row[Any]]:
    return (
        await session.execute(
            select(history).where(history.c.case_id == case_id).order_by(history.c.id)
        )
    ).all()


async def extension_rows(session: AsyncSession, case_id: str) -> Sequence[Row[Any]]:
    return (
        await session.execute(
            select(extension_requests)
            .where(extension_requests.c.case_id == case_id)
            .order_by(extension_requests.c.id)
        )
    ).all()


async def order_rows(session: AsyncSession, case_id: str) -> Sequence[Row[Any]]:
    return (
        await session.execute(
            select(orders).where(orders.c.case_id == case_id).order_by(orders.c.issued_at)
        )
    ).all()


async def order_row(session: AsyncSession, order_id: str) -> Row[Any] | None:
    return (await session.execute(select(orders).where(orders.c.id == order_id))).first()


async def overdue_rows(session: AsyncSession, today: date) -> Sequence[Row[Any]]:
    """Open deadlines past their due date, by unit and due date, with their case's state."""
    return (
        await session.execute(
            select(deadlines, cases.c.status, cases.c.leader, cases.c.backlog)
            .join(cases, cases.c.case_id == deadlines.c.case_id)
            .where(deadlines.c.status == "open", deadlines.c.due_date < today)
            .order_by(deadlines.c.unit_code, deadlines.c.due_date)
        )
    ).all()


async def units_of_cases(session: AsyncSession, case_ids: set[str]) -> dict[str, str]:
    """case id → the unit handling it, for the given cases."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(cases.c.case_id, cases.c.unit_code).where(cases.c.case_id.in_(sorted(case_ids)))
    )
    return {r.case_id: r.unit_code for r in rows}
