"""Logging in and out: the form's username and password go to intake's token endpoint (the
workbench stores no password); the token it answers is kept in the session cookie."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from xinfang_shared.auth.views import forwarded_login_headers
from xinfang_shared.browser import from_this_site
from xinfang_shared.text import text_problem

from xinfang_workbench.api import Unavailable
from xinfang_workbench.deps import UserDep, WorkbenchDep
from xinfang_workbench.pages import home_of
from xinfang_workbench.session import (
    CrossSite,
    forget,
    keep,
    principal_or_none,
    safe_next,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def _login_page(
    wb: Any,
    request: Request,
    *,
    message: str = "",
    next_url: str = "/",
    username: str = "",
    status: int = 200,
) -> HTMLResponse:
    return wb.pages.render(
        request,
        "login.html",
        user=None,
        message=message,
        next_url=safe_next(next_url),
        username=username,
        status=status,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(
    request: Request, wb: WorkbenchDep, expired: bool = False, next: str = "/"
) -> HTMLResponse:
    return _login_page(
        wb, request, message="登录已过期，请重新登录" if expired else "", next_url=next
    )


@router.post("/login")
async def login(request: Request, wb: WorkbenchDep) -> Response:
    if not from_this_site(request, wb.settings.public_url):
        raise CrossSite()  # login CSRF: into the attacker's account
    form = await request.form(max_fields=10)
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/"))
    if not username or not password:
        return _login_page(
            wb,
            request,
            message="请输入用户名和密码",
            next_url=next_url,
            username=username,
            status=422,
        )
    if problem := text_problem(username) or text_problem(password):
        return _login_page(wb, request, message=problem[1], next_url=next_url, status=422)
    settings = wb.settings
    # intake's login throttle counts the browser's address, which the workbench vouches for
    forwarded = forwarded_login_headers("workbench", settings, request)
    try:
        r = await wb.api.send(
            "intake",
            "POST",
            "/api/v1/auth/token",
            token=None,
            data={"username": username, "password": password},
            headers=forwarded,
        )
    except Unavailable as exc:
        return _login_page(
            wb, request, message=exc.message, next_url=next_url, username=username, status=502
        )
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code != 200:
        message = str(body.get("message") or "登录失败")
        return _login_page(
            wb, request, message=message, next_url=next_url, username=username, status=r.status_code
        )
    token = str(body.get("access_token") or "")
    principal = principal_or_none(token, secret=settings.auth_secret)
    if principal is None:
        log.error("login: the token from intake does not verify here (XF_AUTH_SECRET differs?)")
        return _login_page(
            wb,
            request,
            message="登录服务签发的凭证无法在工作台验证，请联系管理员",
            next_url=next_url,
            username=username,
            status=502,
        )
    target = next_url if next_url != "/" else home_of(principal.role)
    resp = RedirectResponse(target, status_code=303)
    ttl = body.get("expires_in")
    keep(
        resp,
        token,
        max_age=ttl if isinstance(ttl, int) and ttl > 0 else None,
        secure=settings.cookie_secure,
    )
    return resp


@router.post("/logout")
async def logout(request: Request, wb: WorkbenchDep) -> Response:
    if not from_this_site(request, wb.settings.public_url):
        raise CrossSite()
    resp = RedirectResponse("/login", status_code=303)
    forget(resp, secure=wb.settings.cookie_secure)
    return resp


@router.get("/")
async def home(user: UserDep) -> Response:
    return RedirectResponse(home_of(user.role), status_code=303)
