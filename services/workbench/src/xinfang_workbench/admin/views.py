"""管理: the accounts of the administrator's subtree (intake's /api/v1/users) and the org tree
(routing's /api/v1/admin/org-tree: download what is in use, load a new one). Who may do what
is the services' rule; a refusal is shown beside the form with what was typed kept."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile
from xinfang_shared.auth.models import Role

from xinfang_workbench.admin import forms
from xinfang_workbench.api import NotFound, Refused
from xinfang_workbench.deps import PostedDep, WorkbenchDep, WrongRole, role_user
from xinfang_workbench.session import User

router = APIRouter(include_in_schema=False)
AdminDep = Annotated[User, Depends(role_user(Role.ADMIN))]
NO_STORE = {"Cache-Control": "no-store"}


def _admin(user: User) -> User:
    if user.role is not Role.ADMIN:
        raise WrongRole((Role.ADMIN,))
    return user


def _root(user: User) -> str:
    return user.principal.org_code.split("-")[0]


async def _users_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    row: str = "",
    row_errors: dict[str, str] | None = None,
    row_message: str = "",
    done: str = "",
    status: int = 200,
) -> HTMLResponse:
    users = await user.api.get("intake", "/api/v1/users")
    return wb.pages.render(
        request,
        "admin_users.html",
        user=user,
        status=status,
        rows=forms.user_rows(users),
        values=values or {},
        errors=errors or {},
        message=message,
        row=row,
        row_errors=row_errors or {},
        row_message=row_message,
        done=done,
        roles=forms.ROLE_CHOICES,
        orgs=forms.org_choices(wb.tree, _root(user)),
    )


@router.get("/admin", response_class=HTMLResponse)
async def admin_home(user: AdminDep) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(
    request: Request, wb: WorkbenchDep, user: AdminDep, done: str = "", u: str = ""
) -> Response:
    return await _users_page(request, wb, user, done=forms.done_message(done, u[:40]))


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, wb: WorkbenchDep, posted: PostedDep) -> Response:
    user = _admin(posted.user)
    values = posted.values()
    values.pop("csrf", None)
    body = forms.create_body(values)
    try:
        created = await user.api.post("intake", "/api/v1/users", body)
    except Refused as exc:
        errors = dict(exc.errors)
        if exc.status == 409:
            errors.setdefault("username", exc.message)
        if exc.status == 404:
            errors.setdefault("org_code", exc.message)
        values.pop("password", None)  # a refused password is not sent back into the page
        return await _users_page(
            request, wb, user, values=values, errors=errors, message=exc.message, status=exc.status
        )
    return RedirectResponse(
        f"/admin/users?done=created&u={quote(str(created['username']))}", status_code=303
    )


@router.post("/admin/users/{username}", response_class=HTMLResponse)
async def change_user(
    request: Request, wb: WorkbenchDep, posted: PostedDep, username: str
) -> Response:
    user = _admin(posted.user)
    action = posted.get("action")
    body = forms.patch_body(action, posted.values())
    if body is None:
        return await _users_page(request, wb, user, message="未知的操作", status=422)
    try:
        await user.api.patch("intake", f"/api/v1/users/{quote(username, safe='')}", body)
    except NotFound:
        raise
    except Refused as exc:
        return await _users_page(
            request,
            wb,
            user,
            row=username,
            row_errors=exc.errors,
            row_message=exc.message,
            status=exc.status,
        )
    return RedirectResponse(
        f"/admin/users?done={action}&u={quote(username)}#u-{quote(username)}", status_code=303
    )


# --- the org tree ------------------------------------------------------------------------------


async def _tree_page(
    request: Request,
    wb: Any,
    user: User,
    *,
    problems: list[dict[str, str]] | None = None,
    message: str = "",
    done: str = "",
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    scope = wb.settings.org_scope
    top = wb.tree.unit(scope)
    may_load = user.principal.org_code == scope
    current = await user.api.get("routing", "/api/v1/admin/org-tree")
    audit: list[dict[str, Any]] = []
    if may_load:
        try:
            audit = (await user.api.get("routing", "/api/v1/admin/org-tree/audit", limit=8))[
                "entries"
            ]
        except Refused:
            audit = []
    return wb.pages.render(
        request,
        "admin_org_tree.html",
        user=user,
        status=status,
        current=current,
        may_load=may_load,
        top_name=top.name if top else "本级",
        problems=problems or [],
        message=message,
        done=done,
        values=values or {},
        audit=forms.audit_rows(audit),
    )


@router.get("/admin/org-tree", response_class=HTMLResponse)
async def org_tree_page(
    request: Request, wb: WorkbenchDep, user: AdminDep, done: str = ""
) -> Response:
    text = "新的组织机构树已加载，立即用于分办" if done == "loaded" else ""
    return await _tree_page(request, wb, user, done=text)


@router.get("/admin/org-tree/source")
async def org_tree_source(wb: WorkbenchDep, user: AdminDep) -> Response:
    r = await wb.api.send("routing", "GET", "/api/v1/admin/org-tree/source", token=user.token)
    if r.status_code != 200:
        from xinfang_workbench.api import refusal

        raise refusal(r.status_code, r.json() if r.content else {})
    return Response(
        r.content,
        media_type="text/yaml; charset=utf-8",
        headers={
            "Content-Disposition": r.headers.get(
                "content-disposition", 'attachment; filename="org-tree.yaml"'
            ),
            **NO_STORE,
        },
    )


@router.post("/admin/org-tree", response_class=HTMLResponse)
async def load_org_tree(request: Request, wb: WorkbenchDep, posted: PostedDep) -> Response:
    user = _admin(posted.user)
    upload = posted.form.get("file")
    values = {"reason": posted.get("reason"), "force": "1" if posted.checked("force") else ""}
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _tree_page(
            request,
            wb,
            user,
            message="请选择要加载的组织机构树文件（YAML）",
            values=values,
            status=422,
        )
    data = await upload.read()
    params: dict[str, Any] = {}
    if values["force"]:
        params["force"] = "true"
    if values["reason"]:
        params["reason"] = values["reason"]
    try:
        await user.api.call(
            "routing",
            "PUT",
            "/api/v1/admin/org-tree",
            content=data,
            params=params,
            headers={"Content-Type": "application/yaml"},
        )
    except Refused as exc:
        return await _tree_page(
            request,
            wb,
            user,
            problems=forms.tree_problems(exc.body),
            message=exc.message,
            values=values,
            status=exc.status,
        )
    return RedirectResponse("/admin/org-tree?done=loaded", status_code=303)
