"""Error responses people can read: a code, the reason in Chinese first, then in English."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def error_body(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": zh, "message_en": en, **extra}


def error_response(status: int, code: str, zh: str, en: str, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, zh, en, **extra), status_code=status)
