"""Thin HTTP layer over the petition service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import JSONResponse
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.status import CaseStatus, status_label

from xinfang_intake.errors import error_body
from xinfang_intake.petitions import service
from xinfang_intake.petitions.schemas import PetitionCreate, PetitionCreated, PetitionStatusRead

router = APIRouter(prefix="/api/v1/petitions", tags=["petitions 信访事项"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PetitionCreated,
    summary="登记信访事项 / register a petition",
    responses={
        422: {"description": "字段校验失败 / invalid field"},
        413: {"description": "请求体过大"},
    },
)
async def register(
    data: PetitionCreate, request: Request, rt: RuntimeDep, session: SessionDep
) -> PetitionCreated:
    ctx = request.app.state.intake
    now = rt.clock.now()
    async with session.begin():
        reg = await service.register_petition(
            session=session,
            data=data,
            numbers=ctx.numbers,
            now=now,
            source=ctx.source,
            id_salt=ctx.settings.id_hash_salt,
            collective_threshold=ctx.settings.collective_threshold,
        )
    rt.relay.wake()
    return PetitionCreated(
        case_id=reg.case_id,
        case_number=reg.case_number,
        query_code=reg.query_code,
        status=CaseStatus.REGISTERED.value,
        status_label=status_label(CaseStatus.REGISTERED),
        received_at=reg.received_at,
        collective=reg.collective,
        message=f"已登记，信访件编号 {reg.case_number}，请凭查询码 {reg.query_code} 查询办理进度",
    )


@router.get(
    "/{query_code}",
    response_model=PetitionStatusRead,
    summary="凭查询码查询办理进度 / status by query code",
    responses={404: {"description": "查询码不存在"}},
)
async def by_query_code(
    query_code: Annotated[str, Path(min_length=4, max_length=16)], session: SessionDep
) -> PetitionStatusRead | JSONResponse:
    try:
        return await service.get_status_by_query_code_or_raise(
            session=session, query_code=query_code
        )
    except service.PetitionNotFound:
        return JSONResponse(
            error_body(
                "not_found", "查询码不存在，请核对后重试", "no petition with this query code"
            ),
            status_code=404,
        )
