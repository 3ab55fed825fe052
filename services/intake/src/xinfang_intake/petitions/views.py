"""Thin HTTP layer over the petition service."""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError
from xinfang_shared.auth.deps import get_scope, require_roles
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import Principal
from xinfang_shared.ratelimit import request_client_key
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.timeutil import local_date

from xinfang_intake.deps import IntakeDep
from xinfang_intake.errors import error_body
from xinfang_intake.petitions import service
from xinfang_intake.petitions.schemas import (
    PetitionCreate,
    PetitionCreated,
    PetitionStatusRead,
    channel_problems,
    clock_problems,
)
from xinfang_intake.petitions.writer import RegistrationRefused

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/petitions", tags=["petitions 信访事项"])


IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:\-]{8,100}$")


def _unavailable(zh: str, en: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        error_body("unavailable", zh, en, retry_after_s=retry_after),
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PetitionCreated,
    summary="登记信访事项 / register a petition",
    responses={
        422: {"description": "字段校验失败，或幂等键已用于另一请求 / invalid field or reused key"},
        413: {"description": "请求体过大"},
        429: {"description": "本账号请求过快 / too many requests from this account"},
        503: {"description": "系统繁忙，请按 Retry-After 重试 / busy: retry after"},
    },
)
async def register(
    data: PetitionCreate,
    request: Request,
    intake: IntakeDep,
    scope: Annotated[Scope, Depends(get_scope)],
    _: Annotated[Principal, Depends(require_roles(Role.REGISTRAR, Role.ADMIN, Role.SERVICE))],
    idempotency_key: Annotated[
        str | None,
        Header(description="重试同一请求时带相同的键，不会重复登记 / same key, same petition"),
    ] = None,
    x_client_id: Annotated[
        str | None,
        Header(max_length=100, description="服务账号代多个窗口登记时的窗口标识 / a service's desk"),
    ] = None,
) -> PetitionCreated | JSONResponse:
    if idempotency_key is not None and not IDEMPOTENCY_KEY.match(idempotency_key):
        return JSONResponse(
            error_body(
                "invalid_idempotency_key",
                "Idempotency-Key 应为 8–100 位字母、数字或 . _ : -",
                "Idempotency-Key must be 8-100 letters, digits or . _ : -",
            ),
            status_code=422,
        )
    settings = intake.settings
    problems = clock_problems(
        data,
        now=intake.runtime.clock.now(),
        max_skew=timedelta(seconds=settings.received_max_skew_s),
        max_age=timedelta(days=settings.received_max_age_days),
    ) + channel_problems(data)
    if problems:
        return JSONResponse(
            error_body(
                "validation_error",
                "提交的数据有误，请按提示修改",
                "the request is invalid",
                errors=problems,
            ),
            status_code=422,
        )
    if not scope.covers(data.receiving_office_code):
        return JSONResponse(
            error_body(
                "office_out_of_scope",
                f"只能登记本单位或下级单位收到的信访事项（{data.receiving_office_code} 不在您的范围内）",
                f"you register for your own unit and the units below it only "
                f"({data.receiving_office_code} is outside)",
                field="receiving_office_code",
            ),
            status_code=403,
        )
    # the rate limit is per logged-in person, a service's per desk it names (ratelimit.client_key)
    principal = scope.principal
    key = request_client_key(
        request,
        username=principal.username,
        service=principal.kind == "service",
        client_id=x_client_id,
    )
    wait = intake.limiter.try_acquire(key)
    if wait > 0:
        retry = max(1, math.ceil(wait))
        return JSONResponse(
            error_body(
                "rate_limited",
                f"请求过于频繁，请 {retry} 秒后重试",
                f"too many requests from this account; retry in {retry} s",
                retry_after_s=retry,
            ),
            status_code=429,
            headers={"Retry-After": str(retry)},
        )
    request_hash = service.request_hash(data) if idempotency_key else ""
    try:
        # group commit: written with the registrations that arrive with it, 201 after COMMIT
        outcome = await intake.writer.register(
            data, idempotency_key=idempotency_key, request_hash=request_hash
        )
    except service.IdempotencyKeyReused:
        return JSONResponse(
            error_body(
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于内容不同的另一请求，本次未登记",
                "this Idempotency-Key was used for a different request; nothing was registered",
            ),
            status_code=422,
        )
    except RegistrationRefused:
        # the database refused this one's rows (its batch-mates were written): not retryable
        return JSONResponse(
            error_body(
                "registration_refused",
                "该信访事项的数据无法保存，本次未登记；请检查填写内容后重新提交（原样重试不会成功）",
                "the database refused this petition's data; nothing was registered "
                "(retrying it unchanged will not succeed)",
            ),
            status_code=422,
        )
    except (OperationalError, DBAPIError, SQLAlchemyTimeoutError, TimeoutError) as exc:
        # the database is slow or away: nothing was stored (the transaction rolled back)
        log.warning("registration refused, database unavailable: %r", exc)
        return _unavailable(
            "系统繁忙（数据库暂不可用），本次未登记，请稍后重试",
            "busy (database unavailable); nothing was registered, retry later",
            intake.settings.retry_after_s,
        )
    if outcome.replayed is not None:
        return _replayed(outcome.replayed)
    assert outcome.created is not None
    return outcome.created


def _replayed(response: dict[str, Any]) -> JSONResponse:
    return JSONResponse(response, status_code=201, headers={"Idempotent-Replayed": "true"})


@router.get(
    "/{query_code}",
    response_model=PetitionStatusRead,
    summary="凭查询码查询办理进度 / status by query code",
    responses={404: {"description": "查询码不存在"}},
)
async def by_query_code(
    query_code: Annotated[str, Path(min_length=4, max_length=16)],
    session: SessionDep,
    rt: RuntimeDep,
) -> PetitionStatusRead | JSONResponse:
    try:
        return await service.get_status_by_query_code_or_raise(
            session=session, query_code=query_code, today=local_date(rt.clock.now())
        )
    except service.PetitionNotFound:
        return JSONResponse(
            error_body(
                "not_found", "查询码不存在，请核对后重试", "no petition with this query code"
            ),
            status_code=404,
        )
