"""The org-tree admin API: the tree in use, loading a new one (an administrator of the
deployment's top unit only, as the token's holder), and the audit of every attempt."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from xinfang_shared import org
from xinfang_shared.auth.deps import CurrentUser, get_principal
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, actor_name
from xinfang_shared.http import error_response
from xinfang_shared.runtime import SessionDep
from xinfang_shared.text import text_problem

from xinfang_routing.context import RoutingContext
from xinfang_routing.deps import RoutingDep
from xinfang_routing.orgtree import service
from xinfang_routing.orgtree.schemas import OrgTreeAuditRead, OrgTreeLoadedRead, OrgTreeRead

# Every call names its caller (a token); loading is for the deployment's top administrator.
router = APIRouter(prefix="/api/v1", tags=["routing 分办"], dependencies=[Depends(get_principal)])
REASON_MIN, REASON_MAX = 2, 500
ID_MAX = 2**31 - 1  # an INTEGER column


def _summary(tree: org.OrgTree, version_id: int) -> dict[str, Any]:
    return {
        "version": tree.version,
        "units": len(tree.units),
        "departments": len(tree.departments),
        "version_id": version_id,
    }


def _forbidden(ctx: RoutingContext) -> JSONResponse:
    zh, en = service.forbidden_message(ctx.deployment)
    return error_response(403, "forbidden", zh, en)


@router.get(
    "/admin/org-tree", summary="当前组织机构树 / the org tree in use", response_model=OrgTreeRead
)
async def get_org_tree(routing: RoutingDep, session: SessionDep) -> dict[str, Any]:
    ctx = routing.ctx
    loaded = await service.loaded_by(session=session, version_id=ctx.tree_version_id)
    return {**_summary(ctx.tree, ctx.tree_version_id), **loaded}


def _reason_problem(force: bool, reason: str | None) -> tuple[str, str] | None:
    if reason is None:
        if force:
            return "强制加载须说明理由（reason）", "forcing a load needs a reason"
        return None
    if (problem := text_problem(reason)) is not None:
        return problem[1], problem[2]
    if not REASON_MIN <= len(reason.strip()) <= REASON_MAX:
        return (
            f"理由应为 {REASON_MIN}–{REASON_MAX} 个字符",
            f"the reason must be {REASON_MIN} to {REASON_MAX} characters",
        )
    return None


async def _read_at_most(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` bytes (never held whole)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


@router.put(
    "/admin/org-tree",
    summary="加载组织机构树（YAML）/ load a new org tree",
    response_model=OrgTreeLoadedRead,
    description=(
        "仅限本级（XF_ORG_SCOPE）管理员。校验失败（422）、删除仍有在办案件的单位或部门（409，"
        "除非 force=true 并说明理由）时不作任何修改；每次尝试均记入审计。"
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/yaml": {"schema": {"type": "string"}}},
        }
    },
    responses={
        403: {"description": "不是本级管理员"},
        413: {"description": "文件过大"},
        409: {"description": "会删除仍有在办案件的单位或部门"},
        422: {"description": "校验失败，未作任何修改"},
    },
)
async def put_org_tree(
    request: Request,
    routing: RoutingDep,
    session: SessionDep,
    principal: CurrentUser,
    force: Annotated[bool, Query(description="删除仍有在办案件的单位或部门时强制加载")] = False,
    reason: Annotated[str | None, Query(description="理由（强制加载时必填）")] = None,
) -> Any:
    ctx, now = routing.ctx, routing.runtime.clock.now()
    actor = actor_name(principal)

    async def refuse(outcome: str, response: JSONResponse, **audit: Any) -> JSONResponse:
        async with session.begin():
            await service.record(
                session=session,
                actor=actor,
                actor_org=principal.org_code,
                outcome=outcome,
                now=now,
                **audit,
            )
        return response

    if not service.may_load_tree(principal, ctx.deployment):
        return await refuse("forbidden", _forbidden(ctx))
    if (problem := _reason_problem(force, reason)) is not None:
        zh, en = problem
        return await refuse(
            "invalid",
            error_response(422, "invalid_reason", zh, en),
            problems=[{"path": "reason", "message": zh, "message_en": en}],
        )
    reason = reason.strip() if reason else None
    body = await _read_at_most(request, org.MAX_TREE_BYTES)
    if body is None:
        zh = f"文件过大（上限 {org.MAX_TREE_BYTES // 1000} KB），未作任何修改"
        en = f"the file is too large (limit {org.MAX_TREE_BYTES // 1000} kB); nothing changed"
        return await refuse(
            "invalid",
            error_response(413, "too_large", zh, en),
            problems=[{"path": "$", "message": zh, "message_en": en}],
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        zh, en = "文件应为 UTF-8 编码的 YAML", "the file must be UTF-8 encoded YAML"
        return await refuse(
            "invalid",
            error_response(422, "invalid_org_tree", zh, en),
            problems=[{"path": "$", "message": zh, "message_en": en}],
        )
    try:
        async with session.begin():
            await service.refresh_org_tree(session=session, ctx=ctx, force=True)
            tree, version_id, change = await service.load_tree(
                session=session,
                text=text,
                current=ctx.tree,
                deployment=ctx.deployment,
                actor=actor,
                force=force,
                now=now,
            )
            await service.record(
                session=session,
                actor=actor,
                actor_org=principal.org_code,
                outcome="loaded",
                now=now,
                version=tree.version,
                version_id=version_id,
                forced=force,
                reason=reason,
                change=change,
            )
    except org.OrgTreeError as exc:
        problems = [p.as_dict() for p in exc.details]
        return await refuse(
            "invalid",
            error_response(
                422,
                "invalid_org_tree",
                "组织机构树校验失败，未作任何修改",
                "invalid org tree; nothing changed",
                problems=problems,
            ),
            problems=problems,
        )
    except service.TreeInUse as exc:
        return await refuse(
            "in_use",
            error_response(
                409,
                "org_tree_in_use",
                "新的组织机构树删除了仍有在办案件的单位或部门，未作任何修改；"
                "确需加载请以 force=true 并说明理由",
                "the new tree drops units or departments that open cases need; nothing "
                "changed (force=true with a reason to load it anyway)",
                holding=exc.holding,
            ),
            change=exc.change,
            reason=reason,
            problems=exc.holding,
        )
    ctx.tree, ctx.tree_version_id = tree, version_id
    return {**_summary(tree, version_id), **change.as_dict()}


def _may_read_audit(principal: Principal, ctx: RoutingContext) -> bool:
    return principal.role is Role.SERVICE or service.may_load_tree(principal, ctx.deployment)


@router.get(
    "/admin/org-tree/audit",
    summary="组织机构树加载审计 / every attempt to load an org tree, newest first",
    response_model=OrgTreeAuditRead,
    responses={403: {"description": "不是本级管理员"}},
)
async def org_tree_audit(
    routing: RoutingDep,
    session: SessionDep,
    principal: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1, le=ID_MAX, description="翻页：此 id 之前")] = None,
) -> Any:
    ctx = routing.ctx
    if not _may_read_audit(principal, ctx):
        return _forbidden(ctx)
    entries = await service.audit_entries(session=session, limit=limit, before=before)
    return {"entries": entries}


class YamlResponse(Response):
    media_type = "text/yaml; charset=utf-8"


@router.get(
    "/admin/org-tree/source",
    summary="下载当前组织机构树（YAML）/ the org tree in use, as loaded",
    response_class=YamlResponse,
    responses={
        200: {"content": {"text/yaml": {"schema": {"type": "string"}}}},
        403: {"description": "不是本级管理员"},
    },
)
async def org_tree_source(
    routing: RoutingDep, session: SessionDep, principal: CurrentUser
) -> Response:
    ctx = routing.ctx
    if not service.may_load_tree(principal, ctx.deployment):
        return _forbidden(ctx)
    text = await service.tree_source(session=session, version_id=ctx.tree_version_id)
    name = f"org-tree-{ctx.tree_version_id}.yaml"
    return YamlResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"'})
