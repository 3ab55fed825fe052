"""The staff directory: the active accounts of the caller's org subtree (to name a 包案领导, to
see who handles what). No password hashes, nothing but who and where."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.deps import CurrentScope, require_roles
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, org_name
from xinfang_shared.auth.service import list_users
from xinfang_shared.runtime import SessionDep

router = APIRouter(prefix="/api/v1", tags=["directory 通讯录"])


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
    found = await list_users(session=session, scope=scope, role=role, active_only=True)
    return [
        DirectoryEntryRead(
            username=u.username,
            name=u.name,
            role=u.role.value,
            role_label=u.role_label,
            org_code=u.org_code,
            org_name=org_name(scope.tree, u.org_code),
        )
        for u in found
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
