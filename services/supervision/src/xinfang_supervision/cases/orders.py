"""Issuing a 督办 order: the sweep's for an overdue deadline and a supervisor's by hand go the
same way — the order's row, the ``case.supervision_order`` event (notify tells the body it
was issued to; the other levels' copies follow) and a line in the case's history. Takes a unit
of work and never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import SupervisionOrderIssued

from xinfang_supervision.cases import store
from xinfang_supervision.cases.aggregate import Case, Order
from xinfang_supervision.cases.events import Noted
from xinfang_supervision.cases.oversight import display_name, order_issuer
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.lifecycle import State

# a case still being handled: a 督办 order may be issued on it (and its 包案领导 named)
STILL_OPEN = frozenset(
    {
        State.ROUTED,
        State.ACCEPTED,
        State.EXTENDED,
        State.REPLIED,
        State.REVIEW_REQUESTED,
        State.REREVIEW_REQUESTED,
    }
)


def issuer(sc: SupervisionContext, case: Case) -> str | None:
    """Who issues a 督办 order on the case now: the overseer of its first open deadline (as for
    the sweep's order on an overdue one); None with no open deadline or nobody above."""
    deadline = case.next_open()
    if deadline is None:
        return None
    return order_issuer(sc.tree, case.unit_code, deadline.supervisor_code)


@dataclass(frozen=True)
class Overseen:
    """The deadline an order is about, and the case it belongs to."""

    case_id: str
    case_number: str
    deadline_id: str
    label: str
    due_date: date
    unit_code: str  # the body the order is issued to
    unit_name: str
    leader: str | None


def issue(
    uow: UnitOfWork,
    sc: SupervisionContext,
    about: Overseen,
    *,
    issuer: str,
    feedback_due: date,
    now: datetime,
    actor: str = "supervision",
    reason: str | None = None,
) -> Order:
    """The 督办 order from ``issuer`` to the body holding the deadline, written feedback due on
    ``feedback_due``; ``reason``: a supervisor's own (by hand), else the deadline is overdue."""
    order = Order(
        id=str(uuid.uuid4()),
        issued_by=issuer,
        issued_to=about.unit_code,
        issued_at=now,
        feedback_due=feedback_due,
        deadline_id=about.deadline_id,
    )
    store.add_order(uow, about.case_id, order)
    store.emit(
        uow,
        SupervisionOrderIssued(
            case_id=about.case_id,
            case_number=about.case_number,
            order_id=order.id,
            issued_by=issuer,
            issued_by_name=display_name(sc.tree, issuer),
            issued_to=about.unit_code,
            issued_to_name=about.unit_name,
            deadline_label=about.label,
            due_date=about.due_date,
            feedback_due=feedback_due,
            issued_at=now,
            leader=about.leader,
        ),
        now,
    )
    issued = (
        f"{display_name(sc.tree, issuer)}向{about.unit_name}发出督办单，"
        f"限{feedback_due:%Y年%m月%d日}前书面反馈"
    )
    note = (
        f"{about.label}已超期，{issued}"
        if reason is None
        else f"{issued}（{about.label}），督办事由：{reason}"
    )
    detail = None if reason is None else {"reason": reason}
    store.add_history(
        uow, about.case_id, Noted(actor, "supervision_order", None, None, note, now, detail)
    )
    return order
