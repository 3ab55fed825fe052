"""The platform's OpenAPI additions (installed by :func:`xinfang_shared.web.install_platform`):
the error answers every operation can give, in the platform's error body, and the control
characters the platform refuses in path, query and form strings. Pure: dicts in and
out."""

from __future__ import annotations

import re
from typing import Any

_BODY_METHODS = frozenset({"post", "put", "patch", "delete"})
HEALTH_TAG = "health"  # /healthz and /readyz (xinfang_shared.runtime.health_router)

_ERROR_REF = {"$ref": "#/components/schemas/PlatformError"}
_COMMON: dict[str, str] = {
    "401": "未登录或登录已失效 / not authenticated",
    "403": "无权执行此操作 / forbidden",
    "404": "不存在或不在您的管辖范围内 / not found",
    "413": "请求体过大 / request body too large",
    "422": "提交的数据有误 / invalid request",
    "503": "系统繁忙或暂不可用，请按 Retry-After 重试 / unavailable, retry",
}
_PLATFORM_ERROR_SCHEMA: dict[str, Any] = {
    "title": "PlatformError",
    "type": "object",
    "required": ["error", "message", "message_en"],
    "properties": {
        "error": {"type": "string", "description": "错误代码 / error code"},
        "message": {"type": "string", "description": "说明（中文）"},
        "message_en": {"type": "string", "description": "the reason in English"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message", "message_en"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "message_en": {"type": "string"},
                },
            },
        },
    },
}


# What :class:`InputGuard` lets through, as JSON Schema patterns (ECMA-262 regexes)
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
NO_CONTROL_IN_FORM_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def _no_control(schema: dict[str, Any], pattern: str) -> None:
    """Declare on a string schema (or the string option of an ``anyOf``) that control
    characters are refused, unless it has a pattern of its own."""
    for option in schema.get("anyOf") or [schema]:
        if option.get("type") == "string" and "pattern" not in option and "enum" not in option:
            option["pattern"] = pattern


def _form_schemas(op: dict[str, Any], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    content = op.get("requestBody", {}).get("content", {})
    form = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
    ref = form.get("$ref", "")
    found = schemas.get(ref.rsplit("/", 1)[-1]) if ref else form
    return [found] if found else []


def document_errors(openapi: dict[str, Any]) -> dict[str, Any]:
    """Document what the platform answers on every operation (in place; returns it): 404, 422
    and 503 everywhere, 401 and 403 where a login is needed, 413 where a body is read, every
    error answer's body the ``PlatformError`` schema; and that path, query, header and form
    strings refuse control characters (a pattern)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas["PlatformError"] = _PLATFORM_ERROR_SCHEMA
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    for item in openapi.get("paths", {}).values():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for param in op.get("parameters", []):
                if param.get("in") in ("path", "query"):  # headers: bytes, UTF-8 or not
                    _no_control(param.get("schema", {}), NO_CONTROL_PATTERN)
            for form in _form_schemas(op, schemas):
                for prop in form.get("properties", {}).values():
                    _no_control(prop, NO_CONTROL_IN_FORM_PATTERN)
            codes = {"404", "422", "503"}
            if op.get("security"):
                codes |= {"401", "403"}
            if method in _BODY_METHODS:
                codes.add("413")
            responses = op["responses"]
            if HEALTH_TAG in op.get("tags", []):
                # the probes answer their own checks, also when not ready
                responses.setdefault("503", {"description": "未就绪 / not ready"})
                responses["503"]["content"] = {"application/json": {"schema": {"type": "object"}}}
                continue
            for code in codes:
                responses.setdefault(code, {"description": _COMMON[code]})
            for code, answer in responses.items():
                if code[:1] in ("4", "5"):
                    answer["content"] = {"application/json": {"schema": _ERROR_REF}}
    return openapi


def allowed_methods(openapi: dict[str, Any], path: str) -> list[str]:
    """The methods the API documents for a request path (its templates' ``{param}`` match one
    path segment)."""
    methods: set[str] = set()
    for template, item in openapi.get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            methods |= {m.upper() for m, op in item.items() if isinstance(op, dict)}
    return sorted(methods)
