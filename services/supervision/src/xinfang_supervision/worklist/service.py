"""The worklist (待办/督办 list): the cases in the caller's scope, filtered, sorted and paged
in SQL, each with its next open deadline (the open deadline due first). Keyword-only
functions that read and never commit."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope

from xinfang_supervision import labels
from xinfang_supervision.lifecycle import State, open_states
from xinfang_supervision.models import cases, deadlines
from xinfang_supervision.worklist.schemas import (
    STATE_LABELS,
    WARN_SHARE,
    DeadlineState,
    NextDeadlineRead,
    WorkItemRead,
    WorklistQuery,
    WorklistRead,
    WorklistSort,
)

# "open" on the worklist: every state with a step still to take (a replied case waits to be
# closed), i.e. all but closed, not accepted, the review's answer and final
OPEN = sorted(s.value for s in (*open_states(), State.REPLIED))


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """The SQL twin of :func:`xinfang_supervision.cases.access.visible`."""
    if scope.principal.role is Role.HANDLER:
        return cases.c.unit_code == scope.principal.org_code
    codes = sorted(scope.org_codes)
    return or_(cases.c.unit_code.in_(codes), cases.c.supervising_code.in_(codes))


def places_under(tree: org.OrgTree, place: str) -> list[str]:
    """The unit ``place`` and every unit below it (a township and its villages)."""
    if tree.unit(place) is None:
        return []
    return sorted(c for c in tree.units if tree.is_ancestor(place, c))


def _next_due() -> Any:
    """case id → the due date of its first open deadline."""
    return (
        select(deadlines.c.case_id, func.min(deadlines.c.due_date).label("next_due"))
        .where(deadlines.c.status == "open")
        .group_by(deadlines.c.case_id)
        .subquery("next_due")
    )


def _filters(q: WorklistQuery, scope: Scope, username: str) -> list[ColumnElement[bool]]:
    """The conditions on the case row itself."""
    where = [in_scope(scope)]
    if q.status:
        where.append(cases.c.status.in_(sorted(s.value for s in q.status)))
    if q.open or (q.open is None and not q.status):
        where.append(cases.c.status.in_(OPEN))
    elif q.open is False:
        where.append(cases.c.status.not_in(OPEN))
    if q.category:
        where.append(cases.c.category == q.category)
    if q.place is not None:
        places = places_under(scope.tree, q.place)
        where.append(cases.c.place_code.in_(places) if places else false())
    if q.backlog is not None:
        where.append(cases.c.backlog.is_(q.backlog))
    if q.mine:
        where.append(cases.c.leader_username == username)
    if q.case_number:
        where.append(cases.c.case_number.startswith(q.case_number, autoescape=True))
    if q.case_ids is not None:
        where.append(cases.c.case_id.in_(sorted(set(q.case_ids))) if q.case_ids else false())
    return where


def _due_filters(q: WorklistQuery, next_due: Any, today: date) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if q.due_within is not None:
        where.append(next_due <= today + timedelta(days=q.due_within))
    if q.overdue is True:
        where.append(next_due < today)
    elif q.overdue is False:
        where.append(or_(next_due.is_(None), next_due >= today))
    return where


def _order(sort: WorklistSort, next_due: Any) -> list[Any]:
    column = {
        "due": next_due,
        "received": cases.c.received_at,
        "case_number": cases.c.case_number,
        "updated": cases.c.updated_at,
    }[sort.value.lstrip("-")]
    ordered = column.desc() if sort.value.startswith("-") else column.asc()
    return [ordered.nulls_last(), cases.c.case_id]


async def worklist(
    *, session: AsyncSession, scope: Scope, q: WorklistQuery, today: date
) -> WorklistRead:
    """One page of the caller's worklist, and how many cases match in all."""
    nd = _next_due()
    own = _filters(q, scope, scope.principal.username)
    due = _due_filters(q, nd.c.next_due, today)
    joined = cases.outerjoin(nd, nd.c.case_id == cases.c.case_id)
    counted: Select[Any] = select(func.count()).select_from(joined if due else cases)
    total = int((await session.execute(counted.where(and_(*own, *due)))).scalar_one())
    page = (
        select(cases, nd.c.next_due)
        .select_from(joined)
        .where(*own, *due)
        .order_by(*_order(q.sort, nd.c.next_due))
        .limit(q.size)
        .offset((q.page - 1) * q.size)
    )
    rows = (await session.execute(page)).all() if total > (q.page - 1) * q.size else []
    nexts = await _next_deadlines(session, [r.case_id for r in rows], today)
    categories = await labels.category_names(session) if rows else {}
    items = [
        WorkItemRead.model_validate(
            {
                **labels.label_case(dict(r._mapping), categories),
                "next_deadline": nexts.get(r.case_id),
            }
        )
        for r in rows
    ]
    return WorklistRead(total=total, page=q.page, size=q.size, items=items)


async def _next_deadlines(
    session: AsyncSession, case_ids: list[str], today: date
) -> dict[str, NextDeadlineRead]:
    """case id → its open deadline due first (of the cases given)."""
    if not case_ids:
        return {}
    rows = await session.execute(
        select(deadlines)
        .where(deadlines.c.case_id.in_(case_ids), deadlines.c.status == "open")
        .order_by(deadlines.c.due_date.desc(), deadlines.c.created_at.desc())
    )
    return {r.case_id: next_deadline(r, today) for r in rows}  # the last written wins: first due


def next_deadline(d: Any, today: date) -> NextDeadlineRead:
    """A deadline as the workbench colours it: days left, the share of the period left, and
    正常 / 临期 (less than a quarter left) / 已超期."""
    days_left = (d.due_date - today).days
    span = (d.due_date - d.start_date).days
    share = (days_left / span) if span > 0 else (1.0 if days_left > 0 else 0.0)
    share = min(1.0, max(0.0, share))
    state: DeadlineState = "late" if days_left < 0 else "warn" if share < WARN_SHARE else "ok"
    return NextDeadlineRead(
        kind=d.kind,
        label=d.label,
        start_date=d.start_date,
        due_date=d.due_date,
        days_left=days_left,
        share_left=round(share, 4),
        state=state,
        state_label=STATE_LABELS[state],
    )
