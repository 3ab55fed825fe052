"""The browser side of notify: the dashboard page and its login.

A browser's ``EventSource`` cannot send an Authorization header, so the dashboard logs in with a
form served here: notify forwards the username and password to the service that issues tokens
(intake's ``POST /api/v1/auth/token``, ``XF_NOTIFY_AUTH_URL``) and keeps the token it gets in
an HttpOnly, SameSite=Strict cookie (Secure with ``XF_NOTIFY_COOKIE_SECURE``). The page, its
live stream and its calls then authenticate by that cookie. Notify stores no password.

A cookie comes with every request whoever's page sends it: the login, the logout and every
state-changing call authenticated by the cookie must come from this very origin (see
``xinfang_shared.browser.from_this_site``). The pages are Jinja2 templates (``templates/pages``) with their style
and script in ``static/``: nothing inline, so they run under a strict Content-Security-Policy.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from xinfang_shared.auth.deps import AuthHTTPError, get_scope
from xinfang_shared.auth.models import ROLE_LABELS
from xinfang_shared.auth.scope import org_name
from xinfang_shared.auth.security import InvalidToken
from xinfang_shared.auth.views import forwarded_login_headers
from xinfang_shared.browser import from_this_site, safe_next
from xinfang_shared.text import text_problem

from xinfang_notify import auth
from xinfang_notify.config import NotifySettings
from xinfang_notify.deps import NotifyDep

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
FORM_MAX_BYTES = 4096

PAGES = Environment(
    loader=PackageLoader("xinfang_notify", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
)
STATIC = Path(__file__).parent.parent / "static"
# the dashboard's own files (the page loads nothing else: it runs under a strict CSP)
STATIC_FILES = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
}
NO_STORE = {"Cache-Control": "no-store"}


def page(name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = PAGES.get_template(f"pages/{name}.html").render(**ctx)
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def login_page(
    *, message: str = "", next_url: str = "/", username: str = "", status: int = 200
) -> HTMLResponse:
    return page("login", status, message=message, next_url=safe_next(next_url), username=username)


def cross_site_page() -> HTMLResponse:
    return page("message", 403, message=auth.CROSS_SITE["message"])


def _to_login(request: Request, settings: NotifySettings, *, expired: bool) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"expired": "1"} if expired else {}
    query["next"] = here
    resp = RedirectResponse("/login?" + urlencode(query, quote_via=quote), status_code=303)
    if expired:
        _forget(settings, resp)
    return resp


def _forget(settings: NotifySettings, resp: Response) -> None:
    resp.delete_cookie(
        auth.COOKIE,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, expired: bool = False, next: str = "/") -> HTMLResponse:
    return login_page(message="登录已过期，请重新登录" if expired else "", next_url=next)


@router.post("/login")
async def login(request: Request, notify: NotifyDep) -> Response:
    """Forward the form's credentials to the token issuer; on success keep the token in the
    session cookie and go on to the dashboard."""
    # login CSRF: into the attacker's account
    if not from_this_site(request, notify.nc.public_url):
        return cross_site_page()
    raw = await request.body()
    if len(raw) > FORM_MAX_BYTES:
        return login_page(message="提交的内容过长", status=413)
    try:
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), max_num_fields=10).items()}
    except (UnicodeDecodeError, ValueError):
        return login_page(message="提交的内容无法识别", status=400)
    username, password = form.get("username", "").strip(), form.get("password", "")
    next_url = safe_next(form.get("next"))
    if not username or not password:
        return login_page(
            message="请输入用户名和密码", next_url=next_url, username=username, status=422
        )
    if problem := text_problem(username) or text_problem(password):
        return login_page(message=problem[1], next_url=next_url, status=422)
    settings, client = notify.settings, notify.login_client
    # the issuer's throttle counts the browser's address, which this service vouches for
    forwarded = forwarded_login_headers("notify", settings, request)
    try:
        r = await client.post(
            settings.auth_url + "/api/v1/auth/token",
            data={"username": username, "password": password},
            headers=forwarded,
        )
    except httpx.HTTPError as exc:
        log.warning("login: the token issuer at %s is unreachable: %s", settings.auth_url, exc)
        return login_page(
            message="登录服务暂不可用，请稍后再试", next_url=next_url, username=username, status=502
        )
    if r.status_code == 401:  # the issuer's words: they say where accounts log in
        message = str(_json(r).get("message") or "用户名或密码错误")
        return login_page(message=message, next_url=next_url, username=username, status=401)
    if r.status_code != 200:
        message = "登录服务暂不可用，请稍后再试"
        status = 502
        if 400 <= r.status_code < 500:  # e.g. a locked account: say what the issuer said
            body = _json(r)
            message, status = str(body.get("message") or "登录失败"), r.status_code
        log.warning("login: the token issuer answered %s: %s", r.status_code, r.text[:300])
        return login_page(message=message, next_url=next_url, username=username, status=status)
    body = _json(r)
    token = str(body.get("access_token") or "")
    try:
        auth.read(token, notify.runtime)
    except (InvalidToken, KeyError, ValueError) as exc:
        # e.g. notify and intake configured with different XF_AUTH_SECRET
        log.error("login: the token from %s does not verify here: %s", settings.auth_url, exc)
        return login_page(
            message="登录服务签发的凭证无法在本服务验证，请联系管理员",
            next_url=next_url,
            username=username,
            status=502,
        )
    resp = RedirectResponse(next_url, status_code=303)
    max_age = body.get("expires_in")
    resp.set_cookie(
        auth.COOKIE,
        token,
        max_age=max_age if isinstance(max_age, int) and max_age > 0 else None,
        path="/",
        secure=settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return resp


def _json(r: httpx.Response) -> dict[str, Any]:
    try:
        doc = r.json()
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


@router.post("/logout")
async def logout(request: Request, notify: NotifyDep) -> Response:
    if not from_this_site(request, notify.nc.public_url):
        return cross_site_page()
    resp = RedirectResponse("/login", status_code=303)
    _forget(notify.settings, resp)
    return resp


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, notify: NotifyDep, org: str | None = None) -> Response:
    """The live dashboard of the logged-in user (the login form without a valid session)."""
    token = request.cookies.get(auth.COOKIE)
    if not token:
        return _to_login(request, notify.settings, expired=False)
    try:
        principal, _ = auth.read(token, notify.runtime)
    except InvalidToken:
        return _to_login(request, notify.settings, expired=True)
    tree = notify.nc.tree
    try:
        scope = await get_scope(principal, tree)
        if org:
            auth.narrow(scope, org)
    except AuthHTTPError as exc:
        return page("message", exc.status_code, message=exc.body["message"])
    unit = org_name(tree, principal.org_code) or principal.org_code
    return page(
        "dashboard",
        user=f"{principal.name}（{principal.username}）",
        unit=unit,
        role=ROLE_LABELS[principal.role],
        title=(org_name(tree, org) or org) if org else unit,
        org=org or "",
    )


@router.get("/static/{name}")
async def static(name: str) -> Response:
    """The dashboard's stylesheet and script (a fixed list: nothing else is served)."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        return page("message", 404, message="页面不存在")
    return FileResponse(STATIC / name, media_type=media_type)
