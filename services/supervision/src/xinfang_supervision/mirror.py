"""This level's copy of the cases another level runs (a county's township cases, the city's
escalated ones): kept in step with the events the running level publishes, so this level's
lists, overdue report and case view say what the owner says. Never commits."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseEscalated,
    CaseLeaderNamed,
    CaseStatusChanged,
    SupervisionFeedbackGiven,
    SupervisionOrderIssued,
)

from xinfang_supervision.lifecycle import State
from xinfang_supervision.models import cases, deadlines, orders
from xinfang_supervision.service import SupervisionContext, add_history, display_name


async def _mirror_case(session: AsyncSession, sc: SupervisionContext, case_id: str) -> Any:
    """This level's copy of a case another level runs, or None (not here, or ours)."""
    case = (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()
    if case is None or sc.owns(case.unit_code):
        return None
    return case


async def mirror_status(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseStatusChanged, now: datetime
) -> None:
    """Another level moved a case this level watches: keep the copy's state and deadlines in
    step, so its list, overdue report and case view say what the owner says."""
    session = uow.session
    case = await _mirror_case(session, sc, e.case_id)
    if case is None or e.new_status not in State._value2member_map_:
        return
    await session.execute(
        update(cases)
        .where(cases.c.case_id == e.case_id)
        .values(status=e.new_status, updated_at=now)
    )
    for d in e.deadlines:
        found = await session.execute(
            update(deadlines)
            .where(deadlines.c.case_id == e.case_id, deadlines.c.kind == d.kind)
            .values(status=d.status, due_date=d.due_date, next_check=None)
        )
        if found.rowcount == 0:  # type: ignore[attr-defined]
            uow.add(
                deadlines,
                {
                    "id": str(uuid.uuid4()),
                    "case_id": e.case_id,
                    "case_number": e.case_number,
                    "kind": d.kind,
                    "label": d.label,
                    "basis": d.label,
                    "unit_code": case.unit_code,
                    "unit_name": case.unit_name,
                    "supervisor_code": None,
                    "start_date": d.due_date,
                    "due_date": d.due_date,
                    "status": d.status,
                    "met_at": now if d.status == "met" else None,
                    "stage_done": -1,
                    "next_check": None,
                    "created_at": now,
                },
            )
    if e.old_status != e.new_status:
        add_history(
            uow,
            e.case_id,
            at=now,
            actor=e.actor,
            action="mirrored",
            frm=e.old_status,
            to=e.new_status,
            note=e.note or (e.status_label or e.new_status),
        )


async def mirror_escalation(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseEscalated, now: datetime
) -> None:
    """Another level escalated a case this level watches (提级督办 reaches us, or passes by)."""
    session = uow.session
    case = await _mirror_case(session, sc, e.case_id)
    if case is None:
        return
    await session.execute(
        update(cases)
        .where(cases.c.case_id == e.case_id)
        .values(escalations=max(int(case.escalations or 0), e.escalation), updated_at=now)
    )
    await session.execute(
        update(deadlines)
        .where(deadlines.c.case_id == e.case_id, deadlines.c.status == "open")
        .values(supervisor_code=e.to_unit_code)
    )
    add_history(
        uow,
        e.case_id,
        at=now,
        actor="supervision",
        action="escalated",
        frm=None,
        to=None,
        note=f"{e.reason}：提级至{e.to_unit_name or display_name(sc.tree, e.to_unit_code)}督办"
        f"（第{e.escalation}次）",
    )


async def mirror_order(
    *, uow: UnitOfWork, sc: SupervisionContext, e: SupervisionOrderIssued, now: datetime
) -> None:
    """Another level issued a 督办 order on a case this level watches."""
    session = uow.session
    if await _mirror_case(session, sc, e.case_id) is None:
        return
    exists = (await session.execute(select(orders.c.id).where(orders.c.id == e.order_id))).first()
    if exists is not None:
        return
    uow.add(
        orders,
        {
            "id": e.order_id,
            "case_id": e.case_id,
            "deadline_id": "",
            "issued_by": e.issued_by,
            "issued_to": e.issued_to,
            "issued_at": e.issued_at,
            "feedback_due": e.feedback_due,
            "feedback_at": None,
            "feedback": None,
        },
    )
    add_history(
        uow,
        e.case_id,
        at=now,
        actor="supervision",
        action="supervision_order",
        frm=None,
        to=None,
        note=f"{e.deadline_label}已超期，{e.issued_by_name}向{e.issued_to_name}发出督办单",
    )


async def mirror_leader(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseLeaderNamed, now: datetime
) -> None:
    """Another level named the 包案领导 of a case this level watches."""
    session = uow.session
    if await _mirror_case(session, sc, e.case_id) is None:
        return
    await session.execute(
        update(cases).where(cases.c.case_id == e.case_id).values(leader=e.leader, updated_at=now)
    )
    add_history(
        uow,
        e.case_id,
        at=now,
        actor=e.actor,
        action="leader",
        frm=None,
        to=None,
        note=f"确定包案领导：{e.leader}",
    )


async def mirror_feedback(
    *, uow: UnitOfWork, sc: SupervisionContext, e: SupervisionFeedbackGiven, now: datetime
) -> None:
    """The 督办 feedback on a case this level watches, given at the level that runs it."""
    session = uow.session
    if await _mirror_case(session, sc, e.case_id) is None:
        return
    await session.execute(
        update(orders)
        .where(orders.c.id == e.order_id, orders.c.feedback_at.is_(None))
        .values(feedback_at=e.given_at, feedback=e.feedback)
    )
    add_history(
        uow,
        e.case_id,
        at=now,
        actor=e.actor,
        action="order_feedback",
        frm=None,
        to=None,
        note=f"督办反馈：{e.feedback}",
    )
