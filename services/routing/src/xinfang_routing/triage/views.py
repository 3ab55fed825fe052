"""The supervisor's triage queue (人工分办): the cases whose last hop left them for a person to
route, that no one has routed by hand since, held by a body in the caller's scope. Routing one
by hand is POST /cases/{id}/reassign (改派)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import CurrentScope, require_roles
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, org_name
from xinfang_shared.runtime import SessionDep

from xinfang_routing.models import cases, hops

router = APIRouter(prefix="/api/v1", tags=["routing 分办"])
QUEUE_MAX = 500


class TriageSuggestionRead(BaseModel):
    category: str
    category_name: str
    probability: float


class TriageItemRead(BaseModel):
    case_id: str
    case_number: str
    received_at: datetime
    holder_code: str = Field(description="待分办的信访部门")
    holder_name: str | None
    reason: str = Field(description="为何待人工分办（末次分办的理由）")
    suggestions: list[TriageSuggestionRead] = Field(description="自动识别最可能的类别")


async def triage_queue(*, session: AsyncSession, scope: Scope) -> list[TriageItemRead]:
    """Oldest first, at most :data:`QUEUE_MAX`."""
    last = (
        select(hops.c.case_id, func.max(hops.c.hop).label("hop"))
        .group_by(hops.c.case_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            cases.c.case_id,
            cases.c.case_number,
            cases.c.received_at,
            cases.c.holder_code,
            cases.c.decision,
            hops.c.reason,
        )
        .join(last, last.c.case_id == cases.c.case_id)
        .join(hops, and_(hops.c.case_id == last.c.case_id, hops.c.hop == last.c.hop))
        .where(
            cases.c.status == "routed",
            hops.c.needs_manual_triage.is_(True),
            cases.c.holder_code.in_(sorted(scope.org_codes)),
        )
        .order_by(cases.c.received_at, cases.c.case_id)
        .limit(QUEUE_MAX)
    )
    return [
        TriageItemRead(
            case_id=r.case_id,
            case_number=r.case_number,
            received_at=r.received_at,
            holder_code=r.holder_code,
            holder_name=org_name(scope.tree, r.holder_code),
            reason=r.reason,
            suggestions=_suggestions(r.decision),
        )
        for r in rows
    ]


def _suggestions(decision: Any) -> list[TriageSuggestionRead]:
    found = (decision or {}).get("suggestions") or []
    return [
        TriageSuggestionRead(
            category=s["category"], category_name=s["name"], probability=s["probability"]
        )
        for s in found
    ]


@router.get(
    "/triage",
    response_model=list[TriageItemRead],
    summary="待人工分办 / the triage queue",
    description="本人范围内待人工分办、尚无人改派的信访件（最早收到的在前，至多500件）；"
    "改派用 POST /cases/{case_id}/reassign。 / Items left for manual triage in scope.",
    dependencies=[Depends(require_roles(Role.SUPERVISOR, Role.ADMIN))],
)
async def triage(scope: CurrentScope, session: SessionDep) -> list[TriageItemRead]:
    return await triage_queue(session=session, scope=scope)
