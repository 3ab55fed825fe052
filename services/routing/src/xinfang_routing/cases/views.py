"""Routing's HTTP API: case routes, corrections (objection, reassignment), classification
preview, and the org-tree admin API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from xinfang_shared.auth.deps import (
    CurrentScope,
    get_principal,
    not_found_outside_scope,
    require_roles,
)
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import actor_name
from xinfang_shared.db import UnitOfWork
from xinfang_shared.http import error_body, error_response
from xinfang_shared.runtime import SessionDep
from xinfang_shared.text import text_problem

from xinfang_routing.cases import permissions, service
from xinfang_routing.cases.decision import suggestions_of
from xinfang_routing.cases.permissions import Refusal
from xinfang_routing.cases.schemas import (
    CaseRead,
    CaseRoutedRead,
    ClassifyRead,
    ClassifyRequest,
    HopRead,
    ObjectionCreate,
    ReassignCreate,
)
from xinfang_routing.deps import Routing, RoutingDep

# Every call names its caller; a case outside the caller's org subtree is answered as missing.
router = APIRouter(prefix="/api/v1", tags=["routing 分办"], dependencies=[Depends(get_principal)])
CASE_NOT_FOUND = error_body("not_found", "案件不存在", "no such case")
CASE_ID_MAX = 36  # routing_cases.case_id


def visible(scope: Scope, case: Any) -> bool:
    """A handler sees what its own unit holds; others what was received, is held, answered for
    or supervised inside their subtree."""
    if scope.principal.role is Role.HANDLER:
        return bool(case.holder_code) and scope.may_handle(case.holder_code)
    codes = (
        case.receiving_office_code,
        case.holder_code,
        case.responsible_unit_code,
        case.supervising_code,
    )
    return any(c and scope.covers(c) for c in codes)


def _plausible_id(case_id: str) -> bool:
    return 0 < len(case_id) <= CASE_ID_MAX and text_problem(case_id) is None


async def case_in_scope_or_404(*, session: Any, case_id: str, scope: Scope) -> Any:
    """The case, unless it is missing or outside the caller's scope (404 either way)."""
    if not _plausible_id(case_id):
        not_found_outside_scope(CASE_NOT_FOUND)  # no such id can exist
    try:
        case = await service.get_case_or_raise(session=session, case_id=case_id)
    except service.CaseNotFound:
        not_found_outside_scope(CASE_NOT_FOUND)
    if not visible(scope, case):
        not_found_outside_scope(CASE_NOT_FOUND)
    await session.rollback()  # the check's read; a change runs in its own transaction
    return case


def _not_found() -> JSONResponse:
    return error_response(404, "not_found", "案件不存在", "no such case")


def _refused(r: Refusal) -> JSONResponse:
    return error_response(r.status, r.code, r.zh, r.en)


@router.get(
    "/cases/{case_id}",
    summary="分办情况 / routing of a case",
    response_model=CaseRead,
    description=(
        "案件的分办决定（理由、属地依据；待人工分办时附自动识别最可能的 3 个问题类别及概率）"
        "与全部分办记录。 / The routing decision (reason, where the place came from; for an item "
        "left for manual triage the classifier's top 3 categories with probabilities) and hops."
    ),
)
async def get_case(
    case_id: str, routing: RoutingDep, scope: CurrentScope, session: SessionDep
) -> Any:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    return await service.case_view(session=session, case_id=case_id, rules=routing.ctx.rules)


@router.get(
    "/cases/{case_id}/hops",
    summary="分办记录 / routing hops of a case",
    response_model=list[HopRead],
)
async def case_hops(case_id: str, scope: CurrentScope, session: SessionDep) -> list[dict[str, Any]]:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    return await service.list_hops(session=session, case_id=case_id)


async def _correct(routing: Routing, session: Any, fn: Any, **kwargs: Any) -> Any:
    rt = routing.runtime
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            routed = await fn(uow=uow, ctx=routing.ctx, now=rt.clock.now(), **kwargs)
            await uow.flush()
    except service.CaseNotFound:
        return _not_found()
    except service.Conflict as exc:
        return error_response(409, "conflict", exc.zh, exc.en, **exc.extra)
    except IntegrityError:  # another correction of the same case committed the same hop first
        return error_response(
            409,
            "conflict",
            "该件刚被他人改动（异议或改派），请刷新后重试",
            "the case was just changed by another correction; reload and try again",
        )
    rt.relay.wake()
    return routed.model_dump(mode="json")


@router.post(
    "/cases/{case_id}/objection",
    summary="承办单位异议退回 / objection by the receiving body (A23)",
    response_model=CaseRoutedRead,
)
async def objection(
    case_id: str,
    body: ObjectionCreate,
    routing: RoutingDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    who = scope.principal
    if not permissions.may_object(who, case.holder_code, routing.ctx.tree):
        return _refused(permissions.NOT_THE_HOLDER)
    # a person objects for the body holding the case (checked above); a service names it
    department = case.holder_code
    if who.role is Role.SERVICE:
        department = body.department_code or case.holder_code
    elif body.department_code not in (None, case.holder_code):
        return _refused(permissions.NOT_THE_HOLDER)
    body.actor = actor_name(who, body.actor)
    return await _correct(
        routing,
        session,
        service.object_to_case,
        case_id=case_id,
        department_code=department,
        reason=body.reason,
        actor=body.actor,
    )


@router.post(
    "/cases/{case_id}/reassign",
    summary="改派 / reassign by a supervisor",
    response_model=CaseRoutedRead,
    dependencies=[Depends(require_roles(Role.SUPERVISOR, Role.ADMIN, Role.SERVICE))],
)
async def reassign(
    case_id: str,
    body: ReassignCreate,
    routing: RoutingDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    ctx = routing.ctx
    refusal = permissions.reassign_refusal(
        scope=scope,
        to_code=body.to_department_code,
        confidential=bool(case.confidential),
        tree=ctx.tree,
        rules=ctx.rules,
    )
    if refusal is not None:
        return _refused(refusal)
    body.actor = actor_name(scope.principal, body.actor)
    return await _correct(
        routing,
        session,
        service.reassign_case,
        case_id=case_id,
        to_department_code=body.to_department_code,
        reason=body.reason,
        actor=body.actor,
    )


@router.post(
    "/classify",
    summary="问题类别识别预览 / classification preview for registrars",
    response_model=ClassifyRead,
)
async def classify(body: ClassifyRequest, routing: RoutingDep) -> ClassifyRead:
    ctx = routing.ctx
    result = ctx.model.classify(body.content, body.title)
    rule = ctx.rules.categories.get(result.category or "")
    return ClassifyRead(
        category=result.category,
        category_name=rule.name if rule else None,
        abstain=result.abstain,
        accusation=result.accusation,
        legal=result.legal,
        suggestions=list(suggestions_of(result, ctx.rules)),
    )
