"""包案领导 (the leader's pages): the cases they are in charge of, the alerts to sign (签收,
with a note: only who notify says may sign sees the button), and revealing a sealed informant
(intake decides who may and audits every attempt)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from xinfang_shared.auth.models import Role

from xinfang_workbench.api import Refused
from xinfang_workbench.deps import PostedDep, UserDep, WorkbenchDep, role_user
from xinfang_workbench.leader import forms
from xinfang_workbench.session import User
from xinfang_workbench.supervise import forms as sforms

router = APIRouter(include_in_schema=False)
LeaderDep = Annotated[User, Depends(role_user(Role.LEADER))]
PAGE_SIZE = 20


@router.get("/leader")
async def leader_home(
    request: Request, wb: WorkbenchDep, user: LeaderDep, page: str = ""
) -> Response:
    n = sforms.page_number(page)
    listing = await user.api.get(
        "supervision", "/api/v1/worklist", mine="true", sort="due", page=n, size=PAGE_SIZE
    )
    pages = max(1, -(-int(listing["total"]) // PAGE_SIZE))
    return wb.pages.render(
        request,
        "leader.html",
        user=user,
        listing=listing,
        page=n,
        pages=pages,
        days_text=sforms.days_text,
        deadline_class=sforms.deadline_class,
    )


async def _alerts_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    failed: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    signed: str = "",
    status: int = 200,
) -> Response:
    waiting, done = forms.split_alerts(await user.api.get("notify", "/api/v1/alerts", limit=200))
    return wb.pages.render(
        request,
        "alerts.html",
        user=user,
        waiting=waiting,
        done=done,
        kind_label=forms.alert_kind,
        failed=failed,
        values=values or {},
        errors=errors or {},
        message=message,
        signed=signed,
        status=status,
    )


@router.get("/alerts")
async def alerts(request: Request, wb: WorkbenchDep, user: UserDep, signed: str = "") -> Response:
    return await _alerts_page(request, wb, user, signed=signed[:40])


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(
    request: Request, wb: WorkbenchDep, posted: PostedDep, alert_id: str
) -> Response:
    user = posted.user
    errors = forms.ack_errors(posted.values())
    message = "请修改后再签收"
    status = 422
    if not errors:
        try:
            done = await user.api.post(
                "notify", f"/api/v1/alerts/{alert_id}/ack", forms.ack_body(posted.values())
            )
            number = str((done or {}).get("case_number") or "")
            return RedirectResponse(f"/alerts?signed={number}", status_code=303)
        except Refused as exc:
            errors, message, status = exc.errors, exc.message, exc.status
    return await _alerts_page(
        request,
        wb,
        user,
        failed=alert_id,
        values=posted.values(),
        errors=errors,
        message=message,
        status=status,
    )


async def _reveal_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    case_id: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    revealed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    record = await user.api.get("intake", f"/api/v1/records/{case_id}")
    return wb.pages.render(
        request,
        "reveal.html",
        user=user,
        record=record,
        values=values or {},
        errors=errors or {},
        message=message,
        revealed=revealed,
        status=status,
    )


@router.get("/cases/{case_id}/reveal")
async def reveal_form(
    request: Request, wb: WorkbenchDep, user: LeaderDep, case_id: str
) -> Response:
    return await _reveal_page(request, wb, user, case_id=case_id)


@router.post("/cases/{case_id}/reveal")
async def reveal(request: Request, wb: WorkbenchDep, posted: PostedDep, case_id: str) -> Response:
    """The identity is shown on the answer page only (never stored, never in a URL)."""
    user = posted.user
    try:
        revealed = await user.api.post(
            "intake", f"/api/v1/petitions/{case_id}/informant", forms.reveal_body(posted.values())
        )
    except Refused as exc:
        return await _reveal_page(
            request,
            wb,
            user,
            case_id=case_id,
            values=posted.values(),
            errors=exc.errors,
            message=exc.message,
            status=exc.status,
        )
    return await _reveal_page(request, wb, user, case_id=case_id, revealed=revealed)
