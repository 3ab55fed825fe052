"""The deadline sweep's work: for each open deadline due to be looked at today, the reminder,
the overdue notice with its 督办 order, or the escalation one level up (what and when:
:mod:`xinfang_supervision.deadlines`; who: :mod:`xinfang_supervision.cases.oversight`), and the
backlog (积案) of cases open too long. Takes a unit of work and never commits."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseEscalated,
    DeadlineOverdue,
    DeadlineReminder,
)

from xinfang_supervision.cases import orders, store
from xinfang_supervision.cases.events import Noted
from xinfang_supervision.cases.orders import Overseen
from xinfang_supervision.cases.oversight import display_name, escalation_step, order_issuer
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.deadlines import Notice, due_date, next_notice


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
    rows = await store.due_deadlines(
        uow.session, today=today, batch=batch, owned=sc.owned_codes(), skip_locked=skip_locked
    )
    updates: list[dict[str, Any]] = []
    for d in rows:
        notice, nxt = next_notice(
            d.due_date, today, sc.reminder_days, d.stage_done, sc.grace_days, sc.max_escalations
        )
        supervisor = d.supervisor_code
        if notice is not None:
            event_id, escalated_to = await _act(uow, sc, d, notice, today, now)
            supervisor = escalated_to or supervisor
            store.add_notice(
                uow,
                deadline_id=d.id,
                stage=notice.stage,
                kind=notice.kind,
                event_id=event_id,
                now=now,
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
    await store.record_sweep(uow.session, updates)
    return len(rows)


def _note(uow: UnitOfWork, case_id: str, action: str, note: str, now: datetime) -> None:
    store.add_history(uow, case_id, Noted("supervision", action, None, None, note, now))


async def _act(
    uow: UnitOfWork, sc: SupervisionContext, d: Any, notice: Notice, today: date, now: datetime
) -> tuple[str, str | None]:
    """Send ``notice`` for deadline row ``d``: (the event id, where it escalated to if it did)."""
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
        assert notice.days_before is not None, "a reminder is so many days before"
        return store.emit(
            uow, DeadlineReminder(days_before=notice.days_before, **common), now
        ), None
    if notice.kind == "overdue":
        event_id = store.emit(
            uow, DeadlineOverdue(days_overdue=(today - d.due_date).days, **common), now
        )
        issuer = order_issuer(sc.tree, d.unit_code, d.supervisor_code)
        if issuer is not None:
            _issue_order(uow, sc, d, issuer, today, now)
        return event_id, None
    # escalation: one level further up
    current, up = escalation_step(sc.tree, d.unit_code, d.supervisor_code)
    if up is None:
        return str(uuid.uuid4()), None  # already at the top of this tree: nothing to send
    count = int(d.escalations or 0) + 1
    event_id = store.emit(
        uow,
        CaseEscalated(
            case_id=d.case_id,
            case_number=d.case_number,
            from_unit_code=current or d.unit_code,
            to_unit_code=up,
            to_unit_name=display_name(sc.tree, up),
            handling_unit_code=d.unit_code,
            handling_unit_name=d.unit_name,
            reason=f"{d.label}超期{(today - d.due_date).days}天仍未办结，提级督办",
            escalated_at=now,
            escalation=notice.escalation,
            leader=d.leader,
        ),
        now,
    )
    await store.set_escalations(uow.session, d.case_id, count)
    _note(
        uow,
        d.case_id,
        "escalated",
        f"提级至{display_name(sc.tree, up)}督办（第{notice.escalation}次）",
        now,
    )
    if count >= 2:
        await store.mark_backlog(uow, d.case_id, f"提级督办{count}次", now)
    return event_id, up


def _issue_order(
    uow: UnitOfWork, sc: SupervisionContext, d: Any, issuer: str, today: date, now: datetime
) -> None:
    """The 督办 order for an overdue deadline, from ``issuer`` to the body holding it, with the
    date its written feedback is due."""
    feedback_due = due_date(
        sc.profiles[sc.profile], "supervision_feedback", today, calendar=sc.calendar
    )
    about = Overseen(
        case_id=d.case_id,
        case_number=d.case_number,
        deadline_id=d.id,
        label=d.label,
        due_date=d.due_date,
        unit_code=d.unit_code,
        unit_name=d.unit_name,
        leader=d.leader,
    )
    orders.issue(uow, sc, about, issuer=issuer, feedback_due=feedback_due, now=now)


async def mark_old_cases_backlog(*, uow: UnitOfWork, sc: SupervisionContext, now: datetime) -> int:
    """积案: open cases received more than ``backlog_after_days`` ago (each published once,
    ``case.backlog``); returns how many joined the backlog."""
    old = await store.old_open_cases(uow.session, now - timedelta(days=sc.backlog_after_days))
    for case_id in old:
        await store.mark_backlog(uow, case_id, f"超过{sc.backlog_after_days}日未办结", now)
    return len(old)
