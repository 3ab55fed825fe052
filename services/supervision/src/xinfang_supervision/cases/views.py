"""The case API: lists and the case view (scoped to the caller, with the steps the caller may
take now), the lifecycle actions and the other steps (extension request, hearing, 包案领导,
督办 by hand and its feedback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from xinfang_shared.auth.deps import CurrentScope, get_principal, not_found_outside_scope
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import actor_name
from xinfang_shared.db import UnitOfWork
from xinfang_shared.http import error_response
from xinfang_shared.runtime import SessionDep
from xinfang_shared.timeutil import local_date

from xinfang_supervision import labels
from xinfang_supervision.cases import commands as c
from xinfang_supervision.cases import service
from xinfang_supervision.cases.access import (
    ORDER_NOT_FOUND,
    action_body,
    action_body_openapi,
    case_in_scope_or_404,
    may_take,
    visible,
    well_formed,
)
from xinfang_supervision.cases.aggregate import CaseNotFound, Refused
from xinfang_supervision.cases.allowed import allowed_actions
from xinfang_supervision.cases.orders import issuer
from xinfang_supervision.cases.oversight import overseer
from xinfang_supervision.cases.schemas import (
    ActionBody,
    CaseRead,
    CaseSummaryRead,
    DeadlineRead,
    ExtensionRequestBody,
    FeedbackBody,
    HearingBody,
    LeaderBody,
    OrderCreate,
)
from xinfang_supervision.deps import Supervision, SupervisionDep
from xinfang_supervision.lifecycle import Action, State

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)
# A step the case's state, its level or the law does not allow now (documented for clients)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "案件当前状态、所属层级或法定期限不允许此操作 / not allowed now"}
}


async def with_actions(view: CaseRead, sup: Supervision, scope: Scope, session: Any) -> CaseRead:
    """The case view with the steps this caller may take on it now."""
    case = await service.load_case(session=session, case_id=view.case_id)
    today = local_date(sup.runtime.clock.now())
    view.allowed_actions = allowed_actions(case, scope=scope, sc=sup.context, today=today)
    return view


async def run_step(
    sup: Supervision,
    session: Any,
    scope: Scope,
    step: Callable[..., Awaitable[CaseRead]],
    **kwargs: Any,
) -> CaseRead | JSONResponse:
    """Run one step in a transaction of its own; a refusal is its 404 / 409 / 422. The answer
    is the case as the caller reads it now (with the steps left to take)."""
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            result = await step(uow=uow, sc=sup.context, now=sup.runtime.clock.now(), **kwargs)
            await uow.flush()
    except CaseNotFound:
        return error_response(404, "not_found", "案件不存在", "no such case")
    except Refused as exc:
        return error_response(exc.status, "refused", exc.zh, exc.en, **exc.extra)
    sup.after_commit()
    return await with_actions(result, sup, scope, session)


@router.get(
    "/cases",
    summary="本级可见的案件 / the cases in the caller's scope",
    response_model=list[CaseSummaryRead],
)
async def list_cases(
    scope: CurrentScope,
    session: SessionDep,
    status: Annotated[State | None, Query(description="案件状态")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[CaseSummaryRead]:
    rows = await service.list_cases(session=session, status=status)
    categories = await labels.category_names(session)
    return [service.summary(r, categories) for r in rows if visible(scope, r)][:limit]


@router.get(
    "/cases/{case_id}",
    summary="案件办理情况 / case state, deadlines, history, orders",
    response_model=CaseRead,
)
async def get_case(
    case_id: str, scope: CurrentScope, session: SessionDep, sup: SupervisionDep
) -> CaseRead:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    view = await service.case_view(session=session, case_id=case_id)
    return await with_actions(view, sup, scope, session)


@router.get(
    "/cases/{case_id}/deadlines",
    summary="案件期限 / deadlines of a case",
    response_model=list[DeadlineRead],
)
async def case_deadlines(
    case_id: str, scope: CurrentScope, session: SessionDep
) -> list[DeadlineRead]:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    return await service.list_deadlines(session=session, case_id=case_id)


@router.post(
    "/cases/{case_id}/actions/{action}",
    summary="办理环节 / a lifecycle step (accept, decline, extend, reply, close, request_review, answer_review, request_rereview, answer_rereview)",
    responses=CONFLICT,
    response_model=CaseRead,
    openapi_extra=action_body_openapi(),
)
async def act(
    case_id: str,
    action: Action,
    body: Annotated[ActionBody, Depends(action_body)],
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(sup.context.tree, scope, case.unit_code, action.value)
    command = body.command(actor_name(scope.principal, body.actor))
    return await run_step(sup, session, scope, service.act, case_id=case_id, command=command)


@router.post(
    "/cases/{case_id}/extension-request",
    summary="申请延期（由本机关负责人以 extend 批准）/ ask a leader of the body for an extension",
    responses=CONFLICT,
    response_model=CaseRead,
)
async def extension_request(
    case_id: str,
    body: ExtensionRequestBody,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(sup.context.tree, scope, case.unit_code, "request_extension")
    actor = actor_name(scope.principal, body.actor)
    command = c.RequestExtension(actor, days=body.days, reason=body.reason)
    return await run_step(sup, session, scope, service.act, case_id=case_id, command=command)


@router.post(
    "/cases/{case_id}/hearing",
    summary="复核听证（不计入复核期限）/ a re-review hearing",
    responses=CONFLICT,
    response_model=CaseRead,
)
async def hearing(
    case_id: str,
    body: HearingBody,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(sup.context.tree, scope, case.unit_code, "hearing")
    command = c.AddHearingDays(actor_name(scope.principal, body.actor), days=body.days)
    return await run_step(sup, session, scope, service.act, case_id=case_id, command=command)


@router.post(
    "/cases/{case_id}/leader",
    summary="确定包案领导 / name the leader in charge",
    responses=CONFLICT,
    response_model=CaseRead,
)
async def leader(
    case_id: str,
    body: LeaderBody,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(sup.context.tree, scope, case.unit_code, "leader")
    command = c.NameLeader(
        actor_name(scope.principal, body.actor),
        leader=body.leader,
        leader_username=body.leader_username,
    )
    return await run_step(sup, session, scope, service.act, case_id=case_id, command=command)


@router.post(
    "/orders/{order_id}/feedback",
    summary="督办反馈 / written feedback on a 督办 order",
    responses=CONFLICT,
    response_model=CaseRead,
)
async def feedback(
    order_id: str,
    body: FeedbackBody,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    known = well_formed(order_id)
    case_id = known and await service.case_of_order_or_none(session=session, order_id=order_id)
    if not case_id:
        not_found_outside_scope(ORDER_NOT_FOUND)
    case = await case_in_scope_or_404(session=session, case_id=str(case_id), scope=scope)
    issued_to = await service.order_recipient(session=session, order_id=order_id)
    await session.rollback()  # the read; the feedback runs in a transaction of its own
    may_take(sup.context.tree, scope, issued_to or case.unit_code, "order_feedback")
    return await run_step(
        sup,
        session,
        scope,
        service.order_feedback,
        order_id=order_id,
        text=body.text,
        actor=actor_name(scope.principal, body.actor),
    )


ORDER_FEEDBACK_DAYS = 30  # the furthest a hand-issued order's feedback may be due


def _check_feedback_due(due: date, today: date) -> None:
    """422 on ``feedback_due`` unless it lies from today to 30 days ahead."""
    last = today + timedelta(days=ORDER_FEEDBACK_DAYS)
    if today <= due <= last:
        return
    zh = f"反馈期限应在{today:%Y年%m月%d日}至{last:%Y年%m月%d日}之间"
    raise RequestValidationError(
        [
            {
                "type": "date_range",
                "loc": ("body", "feedback_due"),
                "msg": f"feedback_due must be from {today} to {last}",
                "input": due.isoformat(),
                "ctx": {"zh": zh},
            }
        ]
    )


@router.post(
    "/cases/{case_id}/orders",
    summary="督办：手动发出督办单 / issue a 督办 order by hand",
    responses=CONFLICT,
    response_model=CaseRead,
)
async def issue_order(
    case_id: str,
    body: OrderCreate,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    case = await service.load_case(session=session, case_id=case_id)
    await session.rollback()  # the read; the order is issued in a transaction of its own
    tree = sup.context.tree
    office = issuer(sup.context, case) or overseer(tree, case.unit_code, case.supervising_code)
    may_take(tree, scope, case.unit_code, "order", body=office or case.unit_code)
    _check_feedback_due(body.feedback_due, local_date(sup.runtime.clock.now()))
    return await run_step(
        sup,
        session,
        scope,
        service.issue_order,
        case_id=case_id,
        reason=body.reason,
        feedback_due=body.feedback_due,
        actor=actor_name(scope.principal, None),
    )
