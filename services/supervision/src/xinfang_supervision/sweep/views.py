"""Run the deadline sweep now (a service account, an administrator or a supervisor)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from xinfang_shared.auth.deps import get_principal, require_roles
from xinfang_shared.auth.models import Role

from xinfang_supervision.deps import SupervisionDep

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)


class SweepRead(BaseModel):
    examined: int = Field(description="本次检查的期限数 / deadlines examined")


@router.post(
    "/sweep",
    summary="立即检查到期事项 / run a deadline sweep now",
    dependencies=[Depends(require_roles(Role.SERVICE, Role.ADMIN, Role.SUPERVISOR))],
    response_model=SweepRead,
)
async def sweep_now(sup: SupervisionDep) -> SweepRead:
    return SweepRead(examined=await sup.sweeper.sweep_once())
