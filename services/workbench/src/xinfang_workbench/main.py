"""Wiring: ``bootstrap()`` builds the workbench (one :class:`~xinfang_workbench.deps.Workbench`),
``create_app()`` the FastAPI application: the pages of every role, their assets, and how a
refusal from a service becomes a page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from xinfang_shared import org
from xinfang_shared.schemas import HealthRead
from xinfang_shared.web import InputGuard, SecurityHeaders

from xinfang_workbench.admin.views import router as admin_router
from xinfang_workbench.api import Api, NotFound, Refused, SessionExpired, Unavailable
from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.deps import Workbench, WrongRole, workbench_of
from xinfang_workbench.leader.views import router as leader_router
from xinfang_workbench.live.views import router as live_router
from xinfang_workbench.login.views import router as login_router
from xinfang_workbench.pages import Pages
from xinfang_workbench.register.views import router as register_router
from xinfang_workbench.session import CrossSite, LoginRequired, forget, here, safe_next
from xinfang_workbench.stats.views import router as stats_router
from xinfang_workbench.supervise.views import router as supervise_router
from xinfang_workbench.todo.views import router as todo_router

STATIC = Path(__file__).with_name("static")
# the workbench's own files, a fixed list (pages load nothing else: no CDN, a strict CSP)
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
ROUTERS = (
    login_router,
    live_router,
    register_router,
    todo_router,
    supervise_router,
    leader_router,
    admin_router,
    stats_router,
)


def bootstrap(settings: WorkbenchSettings) -> Workbench:
    tree = org.default_tree()
    return Workbench(
        settings=settings,
        api=Api.connect(settings.service_urls(), timeout_s=settings.api_timeout_s),
        tree=tree,
        pages=Pages(tree),
    )


def _message(request: Request, status: int, message: str, title: str = "提示") -> HTMLResponse:
    wb = workbench_of(request)
    return wb.pages.render(
        request, "message.html", user=None, status=status, title=title, message=message
    )


def _back_to_login(request: Request, *, next_url: str, expired: bool) -> Response:
    query = {"next": safe_next(next_url)}
    if expired:
        query["expired"] = "1"
    resp = RedirectResponse("/login?" + urlencode(query, quote_via=quote), status_code=303)
    if expired:
        forget(resp, secure=workbench_of(request).settings.cookie_secure)
    return resp


def _page_of(request: Request) -> str:
    """The page to come back to: this one for a GET, the page the form was on for a post."""
    if request.method == "GET":
        return here(request)
    referer = urlsplit(request.headers.get("referer", ""))
    return (referer.path + (f"?{referer.query}" if referer.query else "")) or "/"


async def on_login_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return _back_to_login(request, next_url=_page_of(request), expired=exc.expired)


async def on_session_expired(request: Request, _exc: Exception) -> Response:
    return _back_to_login(request, next_url=_page_of(request), expired=True)


async def on_not_found(request: Request, exc: Exception) -> Response:
    return _message(request, 404, "不存在或不在您的管辖范围内", "未找到")


async def on_refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    return _message(request, exc.status, exc.message, "未能办理")


async def on_unavailable(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Unavailable)
    return _message(request, 502, exc.message, "暂不可用")


async def on_cross_site(request: Request, _exc: Exception) -> Response:
    return _message(
        request, 403, "拒绝来自其他网站或已过期页面的提交：请刷新页面后重新操作", "已拒绝"
    )


async def on_wrong_role(request: Request, exc: Exception) -> Response:
    return _message(request, 403, "您的角色无权使用此页面", "无权访问")


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _message(request, 404, "找不到该页面，请检查地址", "未找到")
    if exc.status_code == 405:
        return _message(request, 405, "不支持该操作方式", "无法处理")
    return _message(request, exc.status_code, "请求无法处理", "无法处理")


async def on_invalid_request(request: Request, _exc: Exception) -> Response:
    return _message(request, 422, "提交的内容无法识别，请返回修改后重试", "无法处理")


HANDLERS: dict[Any, Any] = {
    LoginRequired: on_login_required,
    SessionExpired: on_session_expired,
    NotFound: on_not_found,
    Refused: on_refused,
    Unavailable: on_unavailable,
    CrossSite: on_cross_site,
    WrongRole: on_wrong_role,
    StarletteHTTPException: on_http_error,
}


def create_app(settings: WorkbenchSettings | None = None) -> FastAPI:
    settings = settings or WorkbenchSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        wb = bootstrap(settings)
        app.state.workbench = wb
        try:
            yield
        finally:
            await wb.api.close()

    app = FastAPI(
        title="信访工作台 workbench",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    for exc_class, handler in HANDLERS.items():
        app.add_exception_handler(exc_class, handler)
    app.add_exception_handler(RequestValidationError, on_invalid_request)

    @app.get("/healthz", response_model=HealthRead, include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "service": "workbench",
            "now": datetime.now(UTC).isoformat(),
            "clock_mode": settings.clock_mode.value,
            "clock_offset_s": 0.0,
        }

    @app.get("/static/{name}", include_in_schema=False)
    async def static(request: Request, name: str) -> Response:
        path = STATIC / name
        media_type = STATIC_TYPES.get(path.suffix)
        if "/" in name or media_type is None or not path.is_file():
            return _message(request, 404, "找不到该文件", "未找到")
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=300"})

    @app.get("/favicon.ico", include_in_schema=False)
    async def no_icon() -> Response:
        return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})

    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(InputGuard, limit=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    return app
