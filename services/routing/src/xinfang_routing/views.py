"""Routing's HTTP API: case routes, corrections (objection, reassignment), classification
preview, and the org-tree admin API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from xinfang_shared import org
from xinfang_shared.db import UnitOfWork
from xinfang_shared.http import error_response
from xinfang_shared.runtime import RuntimeDep, SessionDep

from xinfang_routing import service
from xinfang_routing.service import RoutingContext

router = APIRouter(prefix="/api/v1", tags=["routing 分办"])


def _ctx(request: Request) -> RoutingContext:
    ctx: RoutingContext = request.app.state.routing
    return ctx


def _not_found() -> JSONResponse:
    return error_response(404, "not_found", "案件不存在", "no such case")


@router.get("/cases/{case_id}", summary="分办情况 / routing of a case")
async def get_case(case_id: str, session: SessionDep) -> Any:
    try:
        return await service.case_view(session=session, case_id=case_id)
    except service.CaseNotFound:
        return _not_found()


@router.get("/cases/{case_id}/hops", summary="分办记录 / routing hops of a case")
async def case_hops(case_id: str, session: SessionDep) -> list[dict[str, Any]]:
    return await service.list_hops(session=session, case_id=case_id)


class ObjectionCreate(BaseModel):
    department_code: str = Field(min_length=3, max_length=30, description="提出异议的承办单位代码")
    reason: str = Field(min_length=2, max_length=500, description="异议理由")
    actor: str = Field(min_length=1, max_length=60, description="经办人")


class ReassignCreate(BaseModel):
    to_department_code: str = Field(min_length=3, max_length=30, description="改派至的部门代码")
    reason: str = Field(min_length=2, max_length=500)
    actor: str = Field(min_length=1, max_length=60)


async def _correct(request: Request, rt: Any, session: Any, fn: Any, **kwargs: Any) -> Any:
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            routed = await fn(uow=uow, ctx=_ctx(request), now=rt.clock.now(), **kwargs)
            await uow.flush()
    except service.CaseNotFound:
        return _not_found()
    except service.Conflict as exc:
        return error_response(409, "conflict", exc.zh, exc.en, **exc.extra)
    rt.relay.wake()
    return routed.model_dump(mode="json")


@router.post(
    "/cases/{case_id}/objection", summary="承办单位异议退回 / objection by the receiving body (A23)"
)
async def objection(
    case_id: str, body: ObjectionCreate, request: Request, rt: RuntimeDep, session: SessionDep
) -> Any:
    return await _correct(
        request,
        rt,
        session,
        service.object_to_case,
        case_id=case_id,
        department_code=body.department_code,
        reason=body.reason,
        actor=body.actor,
    )


@router.post("/cases/{case_id}/reassign", summary="改派 / reassign by a supervisor")
async def reassign(
    case_id: str, body: ReassignCreate, request: Request, rt: RuntimeDep, session: SessionDep
) -> Any:
    return await _correct(
        request,
        rt,
        session,
        service.reassign_case,
        case_id=case_id,
        to_department_code=body.to_department_code,
        reason=body.reason,
        actor=body.actor,
    )


class ClassifyRequest(BaseModel):
    content: str = Field(min_length=1, max_length=20_000)
    title: str = ""


@router.post("/classify", summary="问题类别识别预览 / classification preview for registrars")
async def classify(body: ClassifyRequest, request: Request) -> dict[str, Any]:
    ctx = _ctx(request)
    result = ctx.classifier.classify(body.content, body.title)
    rule = ctx.rules.categories.get(result.category or "")
    return {
        "category": result.category,
        "category_name": rule.name if rule else None,
        "score": result.score,
        "runner_up": result.runner_up,
    }


@router.get("/admin/org-tree", summary="当前组织机构树 / the org tree in use")
async def get_org_tree(request: Request) -> dict[str, Any]:
    tree = _ctx(request).tree
    return {
        "version": tree.version,
        "units": len(tree.units),
        "departments": len(tree.departments),
        "version_id": _ctx(request).tree_version_id,
    }


@router.put(
    "/admin/org-tree",
    summary="加载组织机构树（YAML）/ load a new org tree",
    responses={422: {"description": "校验失败，未作任何修改"}},
)
async def put_org_tree(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    text: Annotated[str, Body(media_type="application/yaml")],
    actor: str = "admin",
) -> Any:
    try:
        async with session.begin():
            tree, version_id = await service.store_org_tree(
                session=session, text=text, actor=actor, now=rt.clock.now()
            )
    except org.OrgTreeError as exc:
        return error_response(
            422,
            "invalid_org_tree",
            "组织机构树校验失败，未作任何修改",
            "invalid org tree; nothing changed",
            problems=exc.problems,
        )
    ctx = _ctx(request)
    ctx.tree, ctx.tree_version_id = tree, version_id
    return {
        "version": tree.version,
        "units": len(tree.units),
        "departments": len(tree.departments),
        "version_id": version_id,
    }
