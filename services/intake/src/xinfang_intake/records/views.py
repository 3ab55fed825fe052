"""The staff workbench's reading of petition records: one record, the search (its hits go to
supervision's worklist) and the registrar's "already has an open case" warning."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse
from xinfang_shared.auth.deps import AuthHTTPError, CurrentScope, require_roles
from xinfang_shared.auth.models import PERSON_ROLES
from xinfang_shared.http import error_body
from xinfang_shared.runtime import SessionDep
from xinfang_shared.text import text_problem
from xinfang_shared.web import invalid_request

from xinfang_intake.deps import IntakeDep
from xinfang_intake.petitions.validation import (
    InvalidValue,
    id_hash,
    normalise_id_number,
    normalise_phone,
)
from xinfang_intake.records import service
from xinfang_intake.records.schemas import OpenCaseRead, RecordRead, RecordSearchRead

router = APIRouter(
    prefix="/api/v1/records",
    tags=["records 信访件查阅"],
    dependencies=[Depends(require_roles(*PERSON_ROLES))],
)
RECORD_NOT_FOUND = error_body("not_found", "信访件不存在", "no such petition")


def _error(field: str, problem: InvalidValue) -> dict[str, str]:
    return {"field": field, "code": problem.code, "message": problem.zh, "message_en": problem.en}


def _as_phone(text: str) -> str | None:
    try:
        return normalise_phone(text)
    except InvalidValue:
        return None


@router.get(
    "",
    response_model=RecordSearchRead,
    summary="检索信访件 / search records",
    description="按信访件编号（前缀）、信访人姓名（全名或开头）、电话（完整号码）或标题、内容中的"
    "文字检索本人范围内的信访件，返回信访件 ID（交督办待办列表 case_ids 使用）。"
    "检举人不按姓名、电话检索。 / Case ids in the caller's scope matching q.",
)
async def search_records(
    scope: CurrentScope,
    session: SessionDep,
    q: Annotated[str, Query(min_length=2, max_length=100, description="检索词")],
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> RecordSearchRead | JSONResponse:
    text = q.strip()
    if len(text) < 2 or text_problem(text) is not None:
        return invalid_request(
            [
                {
                    "field": "q",
                    "code": "query_invalid",
                    "message": "检索词至少2个字，且不能含控制字符",
                    "message_en": "q needs at least 2 characters and no control characters",
                }
            ]
        )
    ids, truncated = await service.search(
        session=session, scope=scope, q=text, phone=_as_phone(text), limit=limit
    )
    return RecordSearchRead(case_ids=ids, truncated=truncated)


@router.get(
    "/open-for",
    response_model=list[OpenCaseRead],
    summary="同一信访人的在办信访件 / open cases of the same petitioner",
    description="登记前提示：本人范围内、未办结、信访人身份证号或电话相同的信访件。 / The open "
    "cases in scope of a petitioner with this ID number or phone.",
)
async def open_for(
    scope: CurrentScope,
    session: SessionDep,
    intake: IntakeDep,
    id_number: Annotated[str | None, Query(max_length=30)] = None,
    phone: Annotated[str | None, Query(max_length=30)] = None,
) -> list[OpenCaseRead] | JSONResponse:
    errors: list[dict[str, str]] = []
    hashed = number = None
    if id_number and id_number.strip():
        try:
            hashed = id_hash(normalise_id_number(id_number), intake.settings.id_hash_salt)
        except InvalidValue as exc:
            errors.append(_error("id_number", exc))
    if phone and phone.strip():
        try:
            number = normalise_phone(phone)
        except InvalidValue as exc:
            errors.append(_error("phone", exc))
    if not errors and hashed is None and number is None:
        errors.append(
            {
                "field": "id_number",
                "code": "id_or_phone_required",
                "message": "请填写身份证号码或电话",
                "message_en": "give id_number or phone",
            }
        )
    if errors:
        return invalid_request(errors)
    return await service.open_for(session=session, scope=scope, id_hash=hashed, phone=number)


@router.get(
    "/{case_id}",
    response_model=RecordRead,
    summary="信访件登记内容 / a petition record",
    description="登记内容与信访人（身份证号码脱敏）；检举控告不显示检举人。受理信访部门、承办单位或"
    "督办单位在本人范围内时可见，否则 404。 / The record, for staff in scope (else 404).",
    responses={404: {"description": "信访件不存在（或不在本人范围内）"}},
)
async def read_record(
    case_id: Annotated[str, Path(max_length=36, pattern=r"^[0-9A-Za-z-]+$")],
    scope: CurrentScope,
    session: SessionDep,
) -> RecordRead:
    record = await service.record_or_none(session=session, scope=scope, case_id=case_id)
    if record is None:
        raise AuthHTTPError(404, RECORD_NOT_FOUND)  # missing, or outside the caller's scope
    return record
