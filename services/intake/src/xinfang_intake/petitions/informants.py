"""Revealing a sealed informant (检举控告) to the leadership of the discipline body (纪检监察)
that handles the accusation, and the audit of every attempt.

Who may is :func:`revealers.may_reveal` (the competent discipline body's leaders and those of
the discipline bodies above it), with a reason. A case whose receiving office and matter are
both outside the caller's subtree is answered like a missing one (404); anyone else who may not
gets 403 with the reason. Every attempt on a sealed case, allowed or refused, is an audit row,
written in the transaction that reads the identity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.auth.deps import (
    AuthHTTPError,
    CurrentScope,
    not_found_outside_scope,
    require_roles,
)
from xinfang_shared.auth.models import ROLE_LABELS, Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import Principal, actor_name
from xinfang_shared.http import error_body
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.text import check_text

from xinfang_intake.deps import IntakeDep
from xinfang_intake.petitions.accusation import sealed_context
from xinfang_intake.petitions.models import informant_reveals, petitions, sealed_informants
from xinfang_intake.petitions.revealers import case_place, competent_discipline_body, may_reveal
from xinfang_intake.petitions.sealing import InformantCipher, SealBroken

router = APIRouter(prefix="/api/v1", tags=["informants 检举人保密"])

OUTCOME_LABELS = {"revealed": "已查阅", "refused": "已拒绝", "unreadable": "无法解密"}
_ROLE_LABELS = {role.value: label for role, label in ROLE_LABELS.items()}
CASE_ID = r"^[0-9A-Za-z-]+$"  # a case id is a UUID: nothing else is looked up
CASE_NOT_FOUND = error_body("not_found", "信访件不存在", "no such petition")

Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=5, max_length=500),
    AfterValidator(check_text),  # no NUL, control or bidi characters: it goes to the audit
]


class RevealRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason = Field(
        description="查阅理由（必填，至少5个字，如审批文号与事由），记入审计 / why (audited)"
    )


class InformantIdentity(BaseModel):
    name: str
    id_number: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class InformantReveal(BaseModel):
    case_id: str
    case_number: str
    receiving_office: str
    informants: list[InformantIdentity]
    revealed_at: datetime
    revealed_by: str
    audit_id: int
    notice: str


class RevealAuditRead(BaseModel):
    id: int
    case_id: str
    case_number: str
    office_code: str
    at: datetime
    username: str
    actor: str
    role: str
    role_label: str
    org_code: str
    reason: str
    outcome: str
    outcome_label: str


# --- service ------------------------------------------------------------------------------


async def record_attempt(
    *,
    session: AsyncSession,
    case: Any,
    principal: Principal,
    reason: str,
    outcome: str,
    now: datetime,
) -> int:
    """One audit row in the caller's transaction; returns its id."""
    result = await session.execute(
        insert(informant_reveals)
        .values(
            case_id=case.case_id,
            case_number=case.case_number,
            office_code=case.receiving_office_code,
            at=now,
            username=principal.username[:40],
            actor=actor_name(principal),
            role=principal.role.value,
            org_code=principal.org_code,
            reason=reason,
            outcome=outcome,
        )
        .returning(informant_reveals.c.id)
    )
    return int(result.scalar_one())


def open_identity(cipher: InformantCipher, case_id: str, sealed: bytes) -> list[InformantIdentity]:
    """The informants sealed for ``case_id``; :class:`SealBroken` if the value does not open."""
    people = cipher.open_json(sealed, context=sealed_context(case_id))
    return [InformantIdentity.model_validate(p) for p in people]


async def list_attempts(
    *, session: AsyncSession, scope: Scope, case_id: str | None, limit: int
) -> list[RevealAuditRead]:
    query = (
        select(informant_reveals)
        .where(informant_reveals.c.office_code.in_(sorted(scope.unit_codes)))
        .order_by(informant_reveals.c.at.desc(), informant_reveals.c.id.desc())
        .limit(limit)
    )
    if case_id is not None:
        query = query.where(informant_reveals.c.case_id == case_id)
    rows = (await session.execute(query)).all()
    return [
        RevealAuditRead(
            **{k: v for k, v in r._mapping.items()},
            role_label=_ROLE_LABELS.get(r.role, r.role),
            outcome_label=OUTCOME_LABELS.get(r.outcome, r.outcome),
        )
        for r in rows
    ]


# --- HTTP ---------------------------------------------------------------------------------


def _forbidden(scope: Scope, place: str) -> dict[str, Any]:
    body = competent_discipline_body(scope.tree, place)
    who = f"{body.name}或其上级纪检监察机关" if body is not None else "有管辖权的纪检监察机关"
    return error_body(
        "forbidden",
        f"无权查阅检举人身份：检举控告由纪检监察机关办理，仅{who}的领导可以查阅"
        "（受理的信访部门及被检举单位的领导均不能查阅）",
        "forbidden: only the leadership of the discipline-inspection body (纪检监察) competent "
        "for this accusation, or of one above it, may reveal the informant",
    )


@router.post(
    "/petitions/{case_id}/informant",
    response_model=InformantReveal,
    summary="查阅检举人身份（有管辖权的纪检监察机关领导，须填写理由，全程审计） / reveal a sealed informant",
    responses={
        403: {
            "description": "仅有管辖权的纪检监察机关领导可以查阅 / not the competent discipline body's leadership"
        },
        404: {"description": "信访件不存在或不在管辖范围内，或没有保密的检举人信息"},
        422: {"description": "缺少查阅理由或理由过短 / reason missing or too short"},
    },
)
async def reveal(
    body: RevealRequest,
    case_id: Annotated[str, Path(min_length=1, max_length=36, pattern=CASE_ID)],
    scope: CurrentScope,
    session: SessionDep,
    rt: RuntimeDep,
    intake: IntakeDep,
    response: Response,
) -> InformantReveal:
    principal = scope.principal
    now = rt.clock.now()
    case = (await session.execute(select(petitions).where(petitions.c.case_id == case_id))).first()
    sealed = None
    if case is not None:
        sealed = (
            await session.execute(
                select(sealed_informants.c.identity).where(sealed_informants.c.case_id == case_id)
            )
        ).scalar_one_or_none()
    place = (
        case_place(
            receiving_office_code=case.receiving_office_code,
            matter_location_code=case.matter_location_code,
        )
        if case is not None
        else None
    )
    visible = case is not None and (
        scope.covers(case.receiving_office_code) or scope.covers(str(place))
    )
    allowed = visible and place is not None and may_reveal(scope.tree, principal, place=place)
    if not allowed:
        if sealed is not None:  # an attempt on a sealed informant is kept, refused or not
            await record_attempt(
                session=session,
                case=case,
                principal=principal,
                reason=body.reason,
                outcome="refused",
                now=now,
            )
            await session.commit()
        if not visible:
            not_found_outside_scope(CASE_NOT_FOUND)
        raise AuthHTTPError(403, _forbidden(scope, str(place)))
    assert case is not None
    if sealed is None:
        raise AuthHTTPError(
            404,
            error_body(
                "not_sealed",
                "该信访件没有加密保存的检举人信息（不是检举控告，或为匿名检举）",
                "this petition has no sealed informant (not an accusation, or anonymous)",
            ),
        )
    cipher = intake.cipher
    try:
        informants = open_identity(cipher, case_id, sealed)
    except SealBroken as exc:
        await record_attempt(
            session=session,
            case=case,
            principal=principal,
            reason=body.reason,
            outcome="unreadable",
            now=now,
        )
        await session.commit()
        raise AuthHTTPError(
            500,
            error_body(
                "informant_unreadable",
                "检举人信息无法解密（密钥不符或数据已被篡改），请联系系统管理员",
                f"the sealed informant cannot be opened ({exc.reason}); check XF_INFORMANT_KEY",
                reason=exc.reason,
            ),
        ) from None
    audit_id = await record_attempt(
        session=session,
        case=case,
        principal=principal,
        reason=body.reason,
        outcome="revealed",
        now=now,
    )
    await session.commit()  # the identity is answered only once its audit row is durable
    office = org.get_unit(case.receiving_office_code)
    response.headers["Cache-Control"] = "no-store"
    return InformantReveal(
        case_id=case.case_id,
        case_number=case.case_number,
        receiving_office=office.petition_office_name if office else case.receiving_office_code,
        informants=informants,
        revealed_at=now,
        revealed_by=actor_name(principal),
        audit_id=audit_id,
        notice="本次查阅已记录在案（查阅人、时间、理由）。检举人信息严格保密，"
        "不得向被检举人或被检举单位透露。",
    )


@router.get(
    "/informant-reveals",
    response_model=list[RevealAuditRead],
    summary="检举人身份查阅记录（包案领导、管理员，限本级及下级） / informant reveal audit",
)
async def reveal_audit(
    _who: Annotated[Principal, Depends(require_roles(Role.LEADER, Role.ADMIN))],
    scope: CurrentScope,
    session: SessionDep,
    case_id: Annotated[str | None, Query(max_length=36, pattern=CASE_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[RevealAuditRead]:
    return await list_attempts(session=session, scope=scope, case_id=case_id, limit=limit)
