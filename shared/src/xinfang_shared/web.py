"""The platform's HTTP layer, the same on every service: ``install_platform(app, ...)`` in
``create_app()``.

- security headers on every response (a strict Content-Security-Policy, no framing, no
  sniffing, no referrer);
- a body-size limit (413) and, optionally, load shedding of writes (503 + Retry-After);
- input refused before any handler or database sees it (422, the platform's error body): NUL
  and the other control characters in the path, the query string and url-encoded form
  fields; integers in query parameters and headers that do not fit 64 bits;
- one error body for every refusal: request validation (malformed JSON included) and
  Starlette's own 404/405 answer ``{"error", "message", "message_en", "errors"?}``, Chinese
  first;
- the common error answers documented on every operation of the OpenAPI document;
- ``/docs`` with Swagger UI served from this process (no CDN: it works offline and under the
  CSP), and ``/`` sending a person to ``home``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xinfang_shared.http import error_body
from xinfang_shared.openapi import allowed_methods, document_errors

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    # same-origin, not no-referrer: with no-referrer a browser sends `Origin: null` on its own
    # form posts, which a CSRF check by Origin must refuse; other sites still get no referrer
    # (a /cx/<query code> address never leaves the site)
    (b"referrer-policy", b"same-origin"),
)
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
STATIC_PREFIX = "/static/platform"
_STATIC_DIR = Path(__file__).with_name("static")
_SWAGGER_DIR = Path(fastapi_offline.__file__).with_name("static")
STATIC_FILES: dict[str, Path] = {
    "swagger-ui-bundle.js": _SWAGGER_DIR / "swagger-ui-bundle.js",
    "swagger-ui.css": _SWAGGER_DIR / "swagger-ui.css",
    "favicon.png": _SWAGGER_DIR / "favicon.png",
    "docs-init.js": _STATIC_DIR / "docs-init.js",
    "docs.css": _STATIC_DIR / "docs.css",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, LF, CR allowed
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
# The SSE reconnection header: the services use it as an event sequence number.
INTEGER_HEADERS = frozenset({"last-event-id"})

# --- validation errors: every field named, in Chinese and English ----------------------------

_STANDARD: dict[str, tuple[str, str]] = {
    "missing": ("必填项缺失", "field required"),
    "string_too_short": (
        "长度不足，至少 {min_length} 个字符",
        "too short: at least {min_length} characters",
    ),
    "string_too_long": (
        "长度超限，最多 {max_length} 个字符",
        "too long: at most {max_length} characters",
    ),
    "string_pattern_mismatch": ("格式不正确", "does not match the expected format"),
    "too_long": ("条目过多，最多 {max_length} 项", "too many items: at most {max_length}"),
    "too_short": ("条目过少，至少 {min_length} 项", "too few items: at least {min_length}"),
    "string_type": ("应为文本", "must be a string"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_parsing_size": ("整数超出范围", "integer out of range"),
    "int_from_float": ("应为整数", "must be an integer"),
    "float_type": ("应为数字", "must be a number"),
    "float_parsing": ("应为数字", "must be a number"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
    "date_parsing": ("日期格式无效，应为 YYYY-MM-DD", "invalid date, use YYYY-MM-DD"),
    "date_from_datetime_parsing": ("日期格式无效，应为 YYYY-MM-DD", "invalid date, use YYYY-MM-DD"),
    "datetime_parsing": ("时间格式无效，应为 ISO 8601", "invalid date-time, use ISO 8601"),
    "datetime_type": ("时间格式无效，应为 ISO 8601", "invalid date-time, use ISO 8601"),
    "datetime_from_date_parsing": (
        "时间格式无效，应为 ISO 8601",
        "invalid date-time, use ISO 8601",
    ),
    "list_type": ("应为数组", "must be a list"),
    "model_type": ("应为对象", "must be an object"),
    "model_attributes_type": ("应为对象", "must be an object"),
    "dict_type": ("应为对象", "must be an object"),
    "extra_forbidden": ("不允许的字段", "unknown field"),
    "enum": ("取值无效，可选：{expected}", "invalid value, expected {expected}"),
    "literal_error": ("取值无效，可选：{expected}", "invalid value, expected {expected}"),
    "json_invalid": ("请求体不是有效的 JSON", "request body is not valid JSON"),
    "value_error": ("取值无效：{error}", "invalid value: {error}"),
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def describe(error: dict[str, Any]) -> dict[str, Any]:
    """One pydantic error as ``{"field", "code", "message", "message_en"}`` (a ``zh`` in the
    error's context, as :mod:`xinfang_shared.text` gives, is the Chinese message)."""
    ctx = error.get("ctx") or {}
    code = error["type"]
    if code in ("too_short", "too_long") and isinstance(error.get("input"), str):
        # a length constraint after a text validator is checked as a sequence's: it is still
        # a text, counted in characters
        code = f"string_{code}"
    if "zh" in ctx:
        zh, en = str(ctx["zh"]), error["msg"]
    elif code in _STANDARD:
        zh_t, en_t = _STANDARD[code]
        safe = {k: str(v) for k, v in ctx.items()}
        try:
            zh, en = zh_t.format(**safe), en_t.format(**safe)
        except KeyError:
            zh, en = zh_t, error["msg"]
    else:
        zh, en = "取值无效", error["msg"]
    field = "body" if code == "json_invalid" else _field(tuple(error.get("loc", ())))
    return {"field": field, "code": code, "message": zh, "message_en": en}


def invalid_request(errors: list[dict[str, Any]]) -> JSONResponse:
    """The platform's 422: the request is invalid, field by field."""
    return JSONResponse(
        error_body(
            "validation_error",
            "提交的数据有误，请按提示修改",
            "the request is invalid",
            errors=errors,
        ),
        status_code=422,
    )


async def validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return invalid_request([describe(e) for e in exc.errors()])


_BODY_UNREADABLE = "There was an error parsing the body"  # FastAPI's 400 for an undecodable body
_HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "找不到该页面或资源，请检查地址", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    413: ("body_too_large", "请求体过大", "request body too large"),
}


async def http_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette's and FastAPI's own HTTP errors (unknown path, wrong method...) in the
    platform's error body; a ``detail`` that is already one is answered as is. A 405 lists in
    ``Allow`` every method of the path (Starlette names only those of one of its routes)."""
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    app = request.scope.get("app")
    if exc.status_code == 405 and isinstance(app, FastAPI):
        allowed = allowed_methods(app.openapi(), request.url.path)
        if allowed:
            headers["Allow"] = ", ".join(allowed)
    if isinstance(exc.detail, dict) and "error" in exc.detail:
        return JSONResponse(exc.detail, status_code=exc.status_code, headers=headers)
    if exc.status_code == 400 and exc.detail == _BODY_UNREADABLE:
        # a body FastAPI cannot even decode (not UTF-8...): malformed JSON like any other
        return invalid_request([describe({"type": "json_invalid", "msg": exc.detail})])
    if exc.status_code == 400:
        # any other body the framework cannot parse (a multipart form without its boundary...):
        # invalid input like the rest, 422, never an undocumented 400
        problem = {
            "field": "body",
            "code": "body_unreadable",
            "message": "请求体无法解析，请检查 Content-Type 与内容是否一致",
            "message_en": f"the body cannot be parsed: {exc.detail}",
        }
        return invalid_request([problem])
    code, zh, en = _HTTP_ERRORS.get(
        exc.status_code, ("http_error", "请求无法处理", f"the request failed: {exc.detail}")
    )
    return JSONResponse(error_body(code, zh, en), status_code=exc.status_code, headers=headers)


# --- input checks (pure) ---------------------------------------------------------------------


def _control_problem(field: str, value: str, *, form: bool = False) -> dict[str, str] | None:
    found = (_CONTROL_IN_FORM if form else _CONTROL).search(value)
    if found is None:
        return None
    cp = f"U+{ord(found.group()):04X}"
    return {
        "field": field,
        "code": "control_character",
        "message": f"含有不可见的控制字符（{cp}），请删除后重新提交",
        "message_en": f"contains a control character ({cp}); remove it",
    }


def int_out_of_range(value: str) -> bool:
    """True for an integer literal that does not fit a signed 64-bit integer."""
    if not _INTEGER.match(value):
        return False
    return not INT64_MIN <= int(value) <= INT64_MAX


def _int_problem(field: str) -> dict[str, str]:
    return {
        "field": field,
        "code": "int_out_of_range",
        "message": "整数超出范围（应在 ±9223372036854775807 之内）",
        "message_en": "integer out of range (a signed 64-bit integer)",
    }


def query_problems(
    raw: bytes, *, integers: frozenset[str] = frozenset(), form: bool = False
) -> list[dict[str, str]]:
    """What is wrong with a query string (or a url-encoded form body): control characters in
    a name or a value, integers named in ``integers`` that do not fit 64 bits."""
    problems = []
    text = raw.decode("latin-1")
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace"):
        problem = _control_problem(name, name) or _control_problem(name, value, form=form)
        if problem is None and name in integers and int_out_of_range(value):
            problem = _int_problem(name)
        if problem is not None:
            problems.append(problem)
    return problems


def integer_parameters(openapi: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """The names of the integer query parameters and headers (lower case) of the API."""
    query: set[str] = set()
    headers: set[str] = set(INTEGER_HEADERS)

    def is_int(schema: dict[str, Any]) -> bool:
        options = schema.get("anyOf") or [schema]
        return any(o.get("type") == "integer" for o in options)

    for item in openapi.get("paths", {}).values():
        for op in item.values():
            for param in op.get("parameters", []) if isinstance(op, dict) else []:
                if not is_int(param.get("schema", {})):
                    continue
                if param.get("in") == "query":
                    query.add(param["name"])
                elif param.get("in") == "header":
                    headers.add(param["name"].lower())
    return frozenset(query), frozenset(headers)


# --- the middlewares ---------------------------------------------------------------------------


class SecurityHeaders:
    """Add the platform's security headers to every response (those a response set itself
    are kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class LoadShedding:
    """At most ``limit`` writes in progress per replica; the next one gets 503 with Retry-After
    at once (a client retries, ideally on another replica) instead of queueing until it times
    out. Reads and health checks are never shed."""

    def __init__(self, app: ASGIApp, *, limit: int, retry_after: int) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = retry_after
        self.inflight = 0
        self.shed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            self.shed += 1
            response = JSONResponse(
                error_body(
                    "overloaded",
                    "系统繁忙，本次未登记，请稍后重试",
                    "busy; nothing was registered, retry later",
                    retry_after_s=self.retry_after,
                ),
                status_code=503,
                headers={"Retry-After": str(self.retry_after)},
            )
            await response(scope, receive, send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value)
    return None


class InputGuard:
    """Refuse what no handler should see: a body over ``limit`` bytes (413, before the
    application reads it), control characters in the path, the query or a url-encoded form,
    integers beyond 64 bits in query parameters and headers (422)."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit
        self._integers: tuple[frozenset[str], frozenset[str]] | None = None

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            error_body(
                "body_too_large",
                f"请求体过大，上限为 {self.limit} 字节",
                f"request body exceeds the limit of {self.limit} bytes",
            ),
            status_code=413,
        )

    def _integer_names(self, scope: Scope) -> tuple[frozenset[str], frozenset[str]]:
        if self._integers is None:
            app = scope.get("app")
            openapi = app.openapi() if isinstance(app, FastAPI) else {}
            self._integers = integer_parameters(openapi)
        return self._integers

    def _problems(self, scope: Scope) -> list[dict[str, str]]:
        path_problem = _control_problem("path", scope.get("path", ""))
        if path_problem is not None:
            return [path_problem]
        query_names, header_names = self._integer_names(scope)
        problems = []
        if scope.get("query_string"):
            problems = query_problems(scope["query_string"], integers=query_names)
        for key, value in scope.get("headers", []):
            name = key.decode("latin-1")
            if name in header_names and int_out_of_range(value.decode("latin-1")):
                problems.append(_int_problem(name))
        return problems

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problems = self._problems(scope)
        if problems:
            await invalid_request(problems)(scope, receive, send)
            return
        if scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large()(scope, receive, send)
            return
        # Chunked bodies: count as they stream and stop once over the limit.
        received = 0
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = (_header(scope, b"content-type") or b"").split(b";")[0].strip().lower()
        if content_type == b"application/x-www-form-urlencoded":
            problems = query_problems(body, form=True)
            if problems:
                await invalid_request(problems)(scope, receive, send)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# --- OpenAPI -----------------------------------------------------------------------------


def _documented_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_errors(original())
        return app.openapi_schema

    return openapi


# --- /docs and / -------------------------------------------------------------------------------


@cache
def _docs_page() -> bytes:
    return (_STATIC_DIR / "docs.html").read_bytes()


async def _docs(_request: Request) -> Response:
    return Response(_docs_page(), media_type="text/html; charset=utf-8")


async def _static(request: Request) -> Response:
    path = STATIC_FILES.get(request.path_params["name"])
    if path is None:
        return JSONResponse(error_body(*_HTTP_ERRORS[404]), status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


def _home(target: str, links: list[dict[str, str]]) -> Callable[[Request], Any]:
    async def home(request: Request) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(target, status_code=303)
        return JSONResponse(
            {
                "message": "请从以下页面进入 / start from one of these pages",
                "links": links,
            }
        )

    return home


DOCS_LINK = {"href": "/docs", "title": "接口文档（工作人员） / API documentation (staff)"}


def _replace_docs_routes(app: FastAPI) -> None:
    """FastAPI's own /docs and /redoc load their scripts from a CDN and run an inline script
    (blank offline, refused by the CSP): replaced by pages served from here."""
    own = {app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url} - {None}
    routes: list[BaseRoute] = [
        r for r in app.router.routes if not (isinstance(r, Route) and r.path in own)
    ]
    app.router.routes[:] = routes
    app.router.add_route("/docs", _docs, methods=["GET"], include_in_schema=False)
    app.router.add_route(
        f"{STATIC_PREFIX}/{{name}}", _static, methods=["GET"], include_in_schema=False
    )


async def _no_icon(_request: Request) -> Response:
    return Response(status_code=204, headers={"Cache-Control": "max-age=86400"})


def install_platform(
    app: FastAPI,
    *,
    max_body_bytes: int,
    home: str | None = None,
    home_links: list[dict[str, str]] | None = None,
    max_inflight: int | None = None,
    retry_after_s: int = 2,
) -> None:
    """Install the platform's HTTP layer on ``app`` (see the module's docstring). ``home``:
    where ``GET /`` sends a browser (others get ``home_links`` as JSON); ``max_inflight``:
    shed writes beyond this many in progress (503 + Retry-After)."""
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.openapi = _documented_openapi(app)  # type: ignore[method-assign]
    _replace_docs_routes(app)
    if home is not None:
        links = home_links or [DOCS_LINK]
        app.router.add_route("/", _home(home, links), methods=["GET"], include_in_schema=False)
    # browsers ask every page's site for an icon: "none", not a 404 in every console
    app.router.add_route("/favicon.ico", _no_icon, methods=["GET"], include_in_schema=False)
    app.add_middleware(InputGuard, limit=max_body_bytes)
    if max_inflight is not None:
        # outside the guard: shed load before reading bodies when this replica is full
        app.add_middleware(LoadShedding, limit=max_inflight, retry_after=retry_after_s)
    app.add_middleware(SecurityHeaders)  # outermost: every answer gets the headers
