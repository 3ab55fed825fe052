"""Error responses people can read: every 4xx names the field and the reason in Chinese and English."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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
    "too_long": ("条目过多，最多 {max_length} 项", "too many items: at most {max_length}"),
    "string_type": ("应为文本", "must be a string"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "int_from_float": ("应为整数", "must be an integer"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "greater_than_equal": ("不能小于 {ge}", "must be at least {ge}"),
    "less_than_equal": ("不能大于 {le}", "must be at most {le}"),
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
    "json_invalid": ("请求体不是有效的 JSON", "request body is not valid JSON"),
    "value_error": ("取值无效：{error}", "invalid value: {error}"),
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


def describe(error: dict[str, Any]) -> dict[str, Any]:
    ctx = error.get("ctx") or {}
    code = error["type"]
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


def error_body(
    code: str, zh: str, en: str, errors: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "message": zh, "message_en": en, **extra}
    if errors is not None:
        body["errors"] = errors
    return body


async def validation_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [describe(e) for e in exc.errors()]
    return JSONResponse(
        error_body(
            "validation_error", "提交的数据有误，请按提示修改", "the request is invalid", errors
        ),
        status_code=422,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_handler)


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


class BodySizeLimit:
    """Refuse bodies over ``limit`` bytes with 413 before the application reads them."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> JSONResponse:
        return JSONResponse(
            error_body(
                "body_too_large",
                f"请求体过大，上限为 {self.limit} 字节",
                f"request body exceeds the limit of {self.limit} bytes",
            ),
            status_code=413,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.limit:
                        await self._too_large()(scope, receive, send)
                        return
                except ValueError:
                    pass
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
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
