"""督办 (the supervisor's pages): the cases due today / this week / overdue across the subtree,
the triage queue, 改派, a 督办 order by hand, naming a 包案领导 from the directory, and the
weekly 超期通报. Every datum and every decision is the services' (called as the user)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from xinfang_shared.auth.models import Role

from xinfang_workbench.api import Refused
from xinfang_workbench.deps import PostedDep, WorkbenchDep, role_user
from xinfang_workbench.session import User
from xinfang_workbench.supervise import forms

router = APIRouter(include_in_schema=False)
SupervisorDep = Annotated[User, Depends(role_user(Role.SUPERVISOR))]
TriageDep = Annotated[User, Depends(role_user(Role.SUPERVISOR, Role.ADMIN))]
ReportDep = Annotated[User, Depends(role_user(Role.SUPERVISOR, Role.LEADER, Role.ADMIN))]
OverseerDep = Annotated[User, Depends(role_user(Role.SUPERVISOR, Role.LEADER, Role.ADMIN))]
PAGE_SIZE = 20
CASE_FORMS = ("order", "reassign", "leader")


def _see_case(case_id: str) -> Response:
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/supervise")
async def supervise(
    request: Request, wb: WorkbenchDep, user: SupervisorDep, view: str = "", page: str = ""
) -> Response:
    chosen = forms.due_view(view)
    n = forms.page_number(page)
    counts: dict[str, int] = {}
    listing: dict[str, Any] = {}
    for v in forms.DUE_VIEWS:
        size = PAGE_SIZE if v.key == chosen.key else 1
        answer = await user.api.get(
            "supervision",
            "/api/v1/worklist",
            **v.filters,
            sort="due",
            page=n if v.key == chosen.key else 1,
            size=size,
        )
        counts[v.key] = int(answer["total"])
        if v.key == chosen.key:
            listing = answer
    pages = max(1, -(-int(listing["total"]) // PAGE_SIZE))
    return wb.pages.render(
        request,
        "supervise.html",
        user=user,
        views=forms.DUE_VIEWS,
        view=chosen,
        counts=counts,
        listing=listing,
        page=n,
        pages=pages,
        days_text=forms.days_text,
        deadline_class=forms.deadline_class,
    )


async def _departments(user: User) -> list[tuple[str, str]]:
    found = await user.api.get("routing", "/api/v1/org/departments", unit=user.principal.org_code)
    return forms.department_options(found)


async def _triage_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    failed: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    done: str = "",
    status: int = 200,
) -> Response:
    items = await user.api.get("routing", "/api/v1/triage")
    return wb.pages.render(
        request,
        "triage.html",
        user=user,
        items=items,
        departments=await _departments(user),
        failed=failed,
        values=values or {},
        errors=errors or {},
        message=message,
        done=done,
        suggestion_text=forms.suggestion_text,
        status=status,
    )


@router.get("/triage")
async def triage(request: Request, wb: WorkbenchDep, user: TriageDep, done: str = "") -> Response:
    return await _triage_page(request, wb, user, done=done[:40])


@router.get("/reports/overdue")
async def overdue_report(
    request: Request, wb: WorkbenchDep, user: ReportDep, as_of: str = ""
) -> Response:
    try:
        report = await user.api.get("supervision", "/api/v1/reports/overdue", as_of=as_of)
        message = ""
    except Refused as exc:  # a malformed date: today's report, and why
        report = await user.api.get("supervision", "/api/v1/reports/overdue")
        message = exc.errors.get("as_of") or exc.message
    return wb.pages.render(
        request, "report_overdue.html", user=user, report=report, as_of=as_of, message=message
    )


async def case_form_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    case_id: str,
    form: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    status: int = 200,
) -> Response:
    """One oversight form of a case on a page of its own (and where a refused form comes
    back with what was typed and the API's messages)."""
    case = await user.api.get("supervision", f"/api/v1/cases/{case_id}")
    options: list[tuple[str, str]] = []
    if form == "reassign":
        options = await _departments(user)
    elif form == "leader":
        options = forms.leader_options(await _leaders(user))
    return wb.pages.render(
        request,
        "oversight_form.html",
        user=user,
        case=case,
        form=form,
        options=options,
        values=values or {},
        errors=errors or {},
        message=message,
        status=status,
    )


@router.get("/cases/{case_id}/oversight/{form}")
async def case_form(
    request: Request, wb: WorkbenchDep, user: OverseerDep, case_id: str, form: str
) -> Response:
    if form not in CASE_FORMS:
        return await case_form_page(request, wb, user, case_id=case_id, form="order")
    return await case_form_page(request, wb, user, case_id=case_id, form=form)


@router.post("/cases/{case_id}/order")
async def issue_order(
    request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str
) -> Response:
    user = posted.user
    try:
        await user.api.post(
            "supervision", f"/api/v1/cases/{case_id}/orders", forms.order_body(posted.values())
        )
    except Refused as exc:
        return await case_form_page(
            request,
            wb,
            user,
            case_id=case_id,
            form="order",
            values=posted.values(),
            errors=exc.errors,
            message=exc.message,
            status=exc.status,
        )
    return _see_case(case_id)


@router.post("/cases/{case_id}/reassign")
async def reassign(request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str) -> Response:
    user = posted.user
    from_triage = posted.get("back") == "triage"
    try:
        routed = await user.api.post(
            "routing", f"/api/v1/cases/{case_id}/reassign", forms.reassign_body(posted.values())
        )
    except Refused as exc:
        errors = dict(exc.errors)
        if exc.body.get("code") in ("unknown_department", "outside_scope", "not_competent"):
            errors.setdefault("to_department_code", exc.message)
        if from_triage:
            return await _triage_page(
                request,
                wb,
                user,
                failed=case_id,
                values=posted.values(),
                errors=errors,
                message=exc.message,
                status=exc.status,
            )
        return await case_form_page(
            request,
            wb,
            user,
            case_id=case_id,
            form="reassign",
            values=posted.values(),
            errors=errors,
            message=exc.message,
            status=exc.status,
        )
    if from_triage:
        number = str((routed or {}).get("case_number") or "")
        return RedirectResponse(f"/triage?done={number}", status_code=303)
    return _see_case(case_id)


async def _leaders(user: User) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await user.api.get("intake", "/api/v1/directory", role="leader")
    return found


@router.post("/cases/{case_id}/leader")
async def name_leader(
    request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str
) -> Response:
    user = posted.user
    picked = forms.leader_body(posted.values(), await _leaders(user))
    errors, message, status = picked.errors, "请从名单中选择包案领导", 422
    if picked.body is not None:
        try:
            await user.api.post("supervision", f"/api/v1/cases/{case_id}/leader", picked.body)
            return _see_case(case_id)
        except Refused as exc:
            errors, message, status = exc.errors, exc.message, exc.status
            if "leader" in errors:
                errors.setdefault("leader_username", errors["leader"])
    return await case_form_page(
        request,
        wb,
        user,
        case_id=case_id,
        form="leader",
        values=posted.values(),
        errors=errors,
        message=message,
        status=status,
    )
