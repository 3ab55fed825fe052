"""The staff directory: the active accounts of the caller's org subtree (to name a 包案领导, to
see who handles what). No password hashes, nothing but who and where."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import CurrentScope, require_roles
from xinfang_shared.auth.models import ROLE_LABELS, Role, users
from xinfang_shared.auth.scope import Scope, org_name
from xinfang_shared.runtime import SessionDep

router = APIRouter(prefix="/api/v1", tags=["directory 通讯录"])
_ROLE_LABELS = {role.value: label for role, label in ROLE_LABELS.items()}


class DirectoryEntryRead(BaseModel):
    username: str
    name: str
    role: str
    role_label: str
    org_code: str
    org_name: str | None


async def directory(
    *, session: AsyncSession, scope: Scope, role: Role | None
) -> list[DirectoryEntryRead]:
    u = users.c
    query = select(u.username, u.display_name, u.role, u.org_code).where(
        u.active.is_(True), u.org_code.in_(sorted(scope.org_codes))
    )
    if role is not None:
        query = query.where(u.role == role.value)
    rows = await session.execute(query.order_by(u.org_code, u.username))
    return [
        DirectoryEntryRead(
            username=r.username,
            name=r.display_name,
            role=r.role,
            role_label=_ROLE_LABELS.get(r.role, r.role),
            org_code=r.org_code,
            org_name=org_name(scope.tree, r.org_code),
        )
        for r in rows
    ]


@router.get(
    "/directory",
    response_model=list[DirectoryEntryRead],
    summary="本单位及下级的在用账号 / active accounts of the caller's subtree",
    dependencies=[Depends(require_roles(Role.SUPERVISOR, Role.LEADER, Role.ADMIN))],
)
async def list_directory(
    scope: CurrentScope,
    session: SessionDep,
    role: Annotated[Role | None, Query(description="只列此角色，如 leader（包案领导）")] = None,
) -> list[DirectoryEntryRead]:
    return await directory(session=session, scope=scope, role=role)
