"""待办: the unit's cases (supervision's worklist, intake's record search) and the case page
(supervision's case, intake's record, routing's hops) with the steps the API allows the user
now, each a form; a refusal is shown beside the form it answers, with what was typed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import unit_of
from xinfang_shared.timeutil import SHANGHAI

from xinfang_workbench.api import NotFound, Refused, Unavailable
from xinfang_workbench.deps import PostedDep, UserDep, Workbench, WorkbenchDep, role_user
from xinfang_workbench.pages import home_of
from xinfang_workbench.session import User
from xinfang_workbench.todo import forms

router = APIRouter(include_in_schema=False)
LIST_ROLES = (Role.HANDLER, Role.REGISTRAR, Role.SUPERVISOR)
ListUser = Annotated[User, Depends(role_user(*LIST_ROLES))]
EMPTY_LIST: dict[str, Any] = {"total": 0, "page": 1, "size": forms.PAGE_SIZE, "items": []}


async def _or_none(call: Any) -> Any:
    """An answer the page can do without (a name list, a part of the case): None if refused."""
    try:
        return await call
    except (Refused, Unavailable):
        return None


async def _options(user: User, service: str, path: str, **params: Any) -> list[tuple[str, str]]:
    rows = await _or_none(user.api.get(service, path, **params)) or []
    return [(str(r["code"]), str(r["name"])) for r in rows if isinstance(r, dict) and "code" in r]


@router.get("/todo", response_class=HTMLResponse)
async def todo(request: Request, wb: WorkbenchDep, user: ListUser) -> Response:
    query = forms.list_query(request.query_params, request.query_params.getlist("status"))
    problem, truncated = "", False
    case_ids: list[str] | None = None
    result: dict[str, Any] = EMPTY_LIST
    unit = unit_of(wb.tree, user.principal.org_code) or user.principal.org_code
    categories, places = await asyncio.gather(
        _options(user, "routing", "/api/v1/categories"),
        _options(user, "routing", "/api/v1/org/units", parent=unit),
    )
    try:
        if forms.needs_record_search(query):
            hits = await user.api.get("intake", "/api/v1/records", q=query.q, limit=200)
            case_ids = [str(i) for i in hits.get("case_ids") or []]
            truncated = bool(hits.get("truncated"))
        if case_ids != []:
            result = await user.api.get(
                "supervision", "/api/v1/worklist", **forms.worklist_params(query, case_ids)
            )
    except NotFound:
        problem = "查询服务暂不支持该条件"
    except Refused as exc:
        problem = "；".join([exc.message, *exc.errors.values()])
    return wb.pages.render(
        request,
        "todo.html",
        user=user,
        status=200 if not problem else 422,
        query=query,
        values=query.form_values(),
        result=result,
        paging=forms.pages(int(result["total"]), query.page),
        problem=problem,
        truncated=truncated,
        done=forms.DONE_LABELS.get(request.query_params.get("done", ""), ""),
        statuses=list(forms.STATUS_LABELS.items()),
        categories=categories,
        places=[p for p in places if p[0] != unit],
        due_options=forms.DUE_WITHIN,
        days_class=forms.days_class,
        days_text=forms.days_text,
    )


# --- the case page --------------------------------------------------------------------------


@dataclass
class Failed:
    """The form the API just refused: which one, what was typed, and the API's words."""

    key: str  # the action, or feedback:<order_id>, or objection
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    status: int = 422


async def _case_page(
    request: Request,
    wb: Workbench,
    user: User,
    case_id: str,
    *,
    failed: Failed | None = None,
    done: str = "",
) -> Response:
    case = await user.api.get("supervision", f"/api/v1/cases/{case_id}")  # 404 → the 404 page
    record, routing, listed = await asyncio.gather(
        _or_none(user.api.get("intake", f"/api/v1/records/{case_id}")),
        _or_none(user.api.get("routing", f"/api/v1/cases/{case_id}")),
        # the services' today (the demo clock may run ahead): from the case's next open deadline
        _or_none(user.api.get("supervision", "/api/v1/worklist", case_ids=case_id)),
    )
    item = (listed or {}).get("items") or [{}]
    next_deadline = item[0].get("next_deadline")
    today = forms.service_today(next_deadline) or datetime.now(SHANGHAI).date()
    deadlines = [
        {**d, **(forms.deadline_days(d, today) if d.get("status") == "open" else {})}
        for d in case.get("deadlines") or []
    ]
    objection_closes = forms.objection_closes(
        routing, org_code=user.principal.org_code, state=str(case["status"]), today=today
    )
    return wb.pages.render(
        request,
        "case.html",
        user=user,
        status=failed.status if failed else 200,
        case=case,
        record=record,
        routing=routing,
        deadlines=deadlines,
        timeline=forms.timeline((routing or {}).get("hops") or [], case.get("history") or []),
        offered=forms.with_refused(
            forms.offered(case.get("allowed_actions") or []), failed.key if failed else None
        ),
        pending_extension=forms.pending_extension(case),
        objection_closes=objection_closes,
        outcomes=[(o, o) for o in forms.REPLY_OUTCOMES],
        failed=failed,
        done=forms.DONE_LABELS.get(done, ""),
        back_href="/todo" if user.has(*LIST_ROLES) else home_of(user.role),
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    request: Request, wb: WorkbenchDep, user: UserDep, case_id: str, done: str = ""
) -> Response:
    return await _case_page(request, wb, user, case_id, done=done)


async def _send(
    request: Request,
    wb: Workbench,
    posted: Any,
    case_id: str,
    key: str,
    call: Any,
) -> Response:
    """Send a step; back to the case page with what it did, or the form again with the
    API's words beside it and what the user typed (nothing was stored)."""
    try:
        await call
    except NotFound:
        raise
    except Refused as exc:
        failed = Failed(key, posted.values(), exc.errors, exc.message, exc.status)
        return await _case_page(request, wb, posted.user, case_id, failed=failed)
    done = key.split(":", 1)[0]
    if done == "objection":  # the case has gone back to the office that sent it
        return RedirectResponse("/todo?done=objection", status_code=303)
    return RedirectResponse(f"/cases/{case_id}?done={done}", status_code=303)


@router.post("/cases/{case_id}/act/{action}")
async def act(
    request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str, action: str
) -> Response:
    if action not in forms.ACTION_FIELDS:
        raise NotFound(status=404, message="不存在的办理环节")
    service, path = forms.api_path(case_id, action)
    body = forms.action_body(action, posted.values())
    return await _send(
        request, wb, posted, case_id, action, posted.user.api.post(service, path, body)
    )


@router.post("/cases/{case_id}/feedback/{order_id}")
async def feedback(
    request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str, order_id: str
) -> Response:
    call = posted.user.api.post(
        "supervision",
        f"/api/v1/orders/{order_id}/feedback",
        forms.feedback_body(posted.values()),
    )
    return await _send(request, wb, posted, case_id, f"feedback:{order_id}", call)


@router.post("/cases/{case_id}/objection")
async def objection(
    request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str
) -> Response:
    call = posted.user.api.post(
        "routing", f"/api/v1/cases/{case_id}/objection", forms.objection_body(posted.values())
    )
    return await _send(request, wb, posted, case_id, "objection", call)
