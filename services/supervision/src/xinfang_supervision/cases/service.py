"""Supervision's case service: load the case, let the law decide (:func:`domain.handle`), store
what happened, answer with the case as a person reads it. Keyword-only functions that take a
unit of work (or a session) and never commit: the caller does."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseEscalated,
    CaseLeaderNamed,
    CaseRouted,
    CaseStatusChanged,
    SupervisionFeedbackGiven,
    SupervisionOrderIssued,
)
from xinfang_shared.workdays import WorkCalendar

from xinfang_supervision import labels
from xinfang_supervision.alerts import emerging
from xinfang_supervision.cases import aggregate as agg
from xinfang_supervision.cases import commands as c
from xinfang_supervision.cases import domain, orders, store
from xinfang_supervision.cases import events as ev
from xinfang_supervision.cases.aggregate import CaseNotFound, Refused
from xinfang_supervision.cases.orders import STILL_OPEN, issuer
from xinfang_supervision.cases.oversight import display_name
from xinfang_supervision.cases.schemas import (
    CaseRead,
    CaseSummaryRead,
    DeadlineNoticeRead,
    DeadlineRead,
    ExtensionRequestRead,
    HistoryRead,
    OrderRead,
)
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.models import outbox

# --- reading ----------------------------------------------------------------------------------


async def get_case_or_raise(*, session: AsyncSession, case_id: str) -> Any:
    """The case's row (who handles and supervises it): :class:`CaseNotFound` if absent."""
    row = await store.case_row(session, case_id)
    if row is None:
        raise CaseNotFound(case_id)
    return row


async def load_case(*, session: AsyncSession, case_id: str) -> agg.Case:
    """The case aggregate (state, deadlines, orders, pending extension)."""
    case = await store.load(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def summary(row: Any, categories: dict[str, str]) -> CaseSummaryRead:
    return CaseSummaryRead.model_validate(labels.label_case(dict(row._mapping), categories))


async def list_cases(*, session: AsyncSession, status: str | None = None) -> list[Any]:
    """Case rows, most recently routed first (the caller filters them by scope)."""
    return list(await store.case_rows(session, status=status))


async def backlog_rows(*, session: AsyncSession) -> list[Any]:
    return list(await store.backlog_rows(session))


async def list_deadlines(*, session: AsyncSession, case_id: str) -> list[DeadlineRead]:
    return [
        DeadlineRead.model_validate(
            {
                **r._mapping,
                "status_label": labels.deadline_status_label(r.status),
                "notices": [
                    DeadlineNoticeRead(
                        kind=n.kind,
                        kind_label=labels.notice_kind_label(n.kind),
                        stage=n.stage,
                        sent_at=n.sent_at,
                    )
                    for n in sent
                ],
            }
        )
        for r, sent in await store.deadline_rows(session, case_id)
    ]


async def case_view(*, session: AsyncSession, case_id: str) -> CaseRead:
    """The case, its deadlines, history, extension requests and 督办 orders."""
    row = await get_case_or_raise(session=session, case_id=case_id)
    base = labels.label_case(dict(row._mapping), await labels.category_names(session))
    return CaseRead.model_validate(
        {
            **base,
            "deadlines": await list_deadlines(session=session, case_id=case_id),
            "history": [
                HistoryRead.model_validate(
                    {**h._mapping, "action_label": labels.action_label(h.action)}
                )
                for h in await store.history_rows(session, case_id)
            ],
            "extension_requests": [
                ExtensionRequestRead.model_validate(dict(r._mapping))
                for r in await store.extension_rows(session, case_id)
            ],
            "orders": [
                OrderRead.model_validate(dict(o._mapping))
                for o in await store.order_rows(session, case_id)
            ],
        }
    )


async def case_of_order_or_none(*, session: AsyncSession, order_id: str) -> str | None:
    row = await store.order_row(session, order_id)
    return None if row is None else str(row.case_id)


async def order_recipient(*, session: AsyncSession, order_id: str) -> str | None:
    row = await store.order_row(session, order_id)
    return None if row is None else str(row.issued_to)


async def units_of_cases(*, session: AsyncSession, case_ids: set[str]) -> dict[str, str]:
    return await store.units_of_cases(session, case_ids)


# --- acting on a case this level runs ---------------------------------------------------------


async def _owned(session: AsyncSession, sc: SupervisionContext, case_id: str) -> agg.Case:
    """The case, if this level runs it; :class:`Refused` (409) for a case another level runs:
    its state changes there, and this level's copy follows."""
    case = await store.load(session, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if not sc.owns(case.unit_code):
        raise Refused(
            f"本案由{display_name(sc.tree, case.unit_code)}所在层级的系统办理，请在该级系统中操作",
            "another level's deployment runs this case: act there",
            handled_by=case.unit_code,
        )
    return case


async def act(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    command: c.Command,
    now: datetime,
) -> CaseRead:
    """Take one step on a case this level runs (a lifecycle action, an extension request, a
    hearing, naming the 包案领导): :class:`Refused` when the law does not allow it."""
    case = await _owned(uow.session, sc, case_id)
    events = domain.handle(case, command, now=now, law=sc.law())
    await store.apply(uow, case, events, now=now)
    await uow.flush()
    return await case_view(session=uow.session, case_id=case_id)


async def order_feedback(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    order_id: str,
    text: str,
    actor: str,
    now: datetime,
) -> CaseRead:
    """The written feedback on a 督办 order (once)."""
    case_id = await case_of_order_or_none(session=uow.session, order_id=order_id)
    if case_id is None:
        raise CaseNotFound(order_id)
    command = c.GiveOrderFeedback(actor=actor, order_id=order_id, text=text)
    return await act(uow=uow, sc=sc, case_id=case_id, command=command, now=now)


async def issue_order(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    case_id: str,
    reason: str,
    feedback_due: date,
    actor: str,
    now: datetime,
) -> CaseRead:
    """督办 by hand: an order like the sweep's (same row, same event) from the office that
    oversees the case's first open deadline; :class:`Refused` (409) for a case no longer being
    handled, one with no open deadline, or one nobody above may supervise."""
    case = await _owned(uow.session, sc, case_id)
    deadline = case.next_open()
    if case.status not in STILL_OPEN or deadline is None:
        raise Refused(
            f"案件当前状态为“{labels.status_label(case.status.value)}”，没有未届满的办理期限，不能督办",
            "the case has no open deadline to supervise",
        )
    office = issuer(sc, case)
    if office is None:
        raise Refused("本案没有上级督办机构", "nobody above the handling body supervises it")
    about = orders.Overseen(
        case_id=case.case_id,
        case_number=case.case_number,
        deadline_id=deadline.id,
        label=deadline.label,
        due_date=deadline.due_date,
        unit_code=case.unit_code,
        unit_name=case.unit_name,
        leader=case.leader,
    )
    orders.issue(
        uow,
        sc,
        about,
        issuer=office,
        feedback_due=feedback_due,
        now=now,
        actor=actor,
        reason=reason,
    )
    await uow.flush()
    return await case_view(session=uow.session, case_id=case_id)


# --- events in --------------------------------------------------------------------------------


async def on_routed(
    *, uow: UnitOfWork, sc: SupervisionContext, routed: CaseRouted, now: datetime
) -> None:
    """The final hop: the handling body has the case. Open it (or move it on re-routing)."""
    session = uow.session
    await labels.remember_category(session, routed.category, routed.category_name)
    existing = await store.load(session, routed.case_id)
    if existing is not None:
        reroute = c.Reroute(
            actor=routed.actor,
            action=routed.action,
            reason=routed.reason,
            to_unit_code=routed.to_unit_code,
            to_unit_name=routed.to_unit_name,
            supervising_code=routed.supervising_code,
            routed_at=routed.routed_at,
            needs_manual_triage=routed.needs_manual_triage,
            place_code=routed.place_code,
            place_name=routed.place_name,
        )
        events = domain.handle(existing, reroute, now=now, law=sc.law())
        await store.apply(uow, existing, events, now=now)
        return
    events = domain.open_case(
        case_id=routed.case_id,
        case_number=routed.case_number,
        profile=sc.profile,
        unit_code=routed.to_unit_code,
        unit_name=routed.to_unit_name,
        supervising_code=routed.supervising_code,
        category=routed.category,
        received_at=routed.received_at,
        routed_at=routed.routed_at,
        needs_manual_triage=routed.needs_manual_triage,
        place_code=routed.place_code,
        place_name=routed.place_name,
        actor=routed.actor,
        note=f"{routed.from_unit_name}{routed.action}至{routed.to_unit_name}",
        announce=f"已转送{routed.to_unit_name}办理",
        now=now,
        law=sc.law(),
    )
    opened = events[0]
    assert isinstance(opened, ev.CaseOpened)
    await store.apply(uow, opened.case, events, now=now)
    if routed.place_code and routed.category and sc.owns(routed.place_code):
        # one level counts a place's items (群体性苗头): the one that serves the place
        emerging.feed(uow, outbox, routed, now)


async def _mirror(
    uow: UnitOfWork, sc: SupervisionContext, case_id: str, command: c.Command, now: datetime
) -> None:
    """Another level runs the case: this level's copy (if it has one) follows."""
    case = await store.load(uow.session, case_id)
    if case is None or sc.owns(case.unit_code):
        return
    await store.apply(uow, case, domain.handle(case, command, now=now, law=sc.law()), now=now)


async def mirror_status(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseStatusChanged, now: datetime
) -> None:
    command = c.MirrorStatus(
        actor=e.actor,
        old_status=e.old_status,
        new_status=e.new_status,
        note=e.note or (e.status_label or e.new_status),
        deadlines=tuple(
            c.MirrorDeadline(kind=d.kind, label=d.label, due_date=d.due_date, status=d.status)
            for d in e.deadlines
        ),
    )
    await _mirror(uow, sc, e.case_id, command, now)


async def mirror_escalation(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseEscalated, now: datetime
) -> None:
    command = c.MirrorEscalation(
        escalation=e.escalation,
        to_unit_code=e.to_unit_code,
        to_unit_name=e.to_unit_name,
        reason=e.reason,
    )
    await _mirror(uow, sc, e.case_id, command, now)


async def mirror_order(
    *, uow: UnitOfWork, sc: SupervisionContext, e: SupervisionOrderIssued, now: datetime
) -> None:
    command = c.MirrorOrder(
        order_id=e.order_id,
        issued_by=e.issued_by,
        issued_by_name=e.issued_by_name,
        issued_to=e.issued_to,
        issued_to_name=e.issued_to_name,
        issued_at=e.issued_at,
        feedback_due=e.feedback_due,
        deadline_label=e.deadline_label,
    )
    await _mirror(uow, sc, e.case_id, command, now)


async def mirror_leader(
    *, uow: UnitOfWork, sc: SupervisionContext, e: CaseLeaderNamed, now: datetime
) -> None:
    await _mirror(uow, sc, e.case_id, c.MirrorLeader(actor=e.actor, leader=e.leader), now)


async def mirror_feedback(
    *, uow: UnitOfWork, sc: SupervisionContext, e: SupervisionFeedbackGiven, now: datetime
) -> None:
    command = c.MirrorFeedback(
        actor=e.actor, order_id=e.order_id, text=e.feedback, given_at=e.given_at
    )
    await _mirror(uow, sc, e.case_id, command, now)


# --- a new calendar ---------------------------------------------------------------------------


async def recalendar(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    year: int,
    previous: WorkCalendar,
    calendar: WorkCalendar,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Open deadlines this level runs whose period touches ``year``, under the new calendar;
    returns what moved (``case_id``, ``case_number``, ``kind``, ``from``, ``to``)."""
    candidates = await store.recalendar_candidates(
        uow.session,
        first=date(year, 1, 1) - timedelta(days=120),
        last=date(year, 12, 31),
        owned=sc.owned_codes(),
    )
    law = sc.law(calendar)
    moved: list[dict[str, Any]] = []
    for case_id, ids in candidates.items():
        case = await store.load(uow.session, case_id)
        if case is None:
            continue
        command = c.Recalendar(
            actor=actor, year=year, deadline_ids=frozenset(ids), previous=previous
        )
        events = domain.handle(case, command, now=now, law=law)
        for e in events:
            if isinstance(e, ev.DeadlineMoved):
                before = case.deadline(e.kind)
                assert before is not None
                moved.append(
                    {
                        "case_id": case.case_id,
                        "case_number": case.case_number,
                        "kind": e.kind,
                        "from": before.due_date,
                        "to": e.due_date,
                    }
                )
        await store.apply(uow, case, events, now=now)
    return moved
