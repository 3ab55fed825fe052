"""Loading a new org tree (the admin API and the CLI): who may, what it changes, what it would
break, and the audit of every attempt. Functions take the session and never commit."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal
from xinfang_shared.levels import Deployment

from xinfang_routing.context import RoutingContext
from xinfang_routing.models import cases, org_tree_audit, org_tree_versions

AUDIT_PROBLEMS_KEPT = 50  # a refused file may have thousands; the audit keeps the first


async def store_org_tree(
    *, session: AsyncSession, text: str, actor: str, now: datetime
) -> tuple[org.OrgTree, int]:
    """Validate and store a tree version (raises OrgTreeError, storing nothing)."""
    tree = await asyncio.to_thread(org.loads, text)
    return tree, await insert_tree_version(
        session=session, tree=tree, text=text, actor=actor, now=now
    )


async def insert_tree_version(
    *, session: AsyncSession, tree: org.OrgTree, text: str, actor: str, now: datetime
) -> int:
    """Store a validated tree as the newest (active) version; its id."""
    result = await session.execute(
        insert(org_tree_versions)
        .values(
            version=tree.version,
            source=text,
            units=len(tree.units),
            departments=len(tree.departments),
            loaded_by=actor,
            loaded_at=now,
        )
        .returning(org_tree_versions.c.id)
    )
    return int(result.scalar_one())


async def active_org_tree(*, session: AsyncSession) -> tuple[org.OrgTree, int] | None:
    row = (
        await session.execute(
            select(org_tree_versions).order_by(org_tree_versions.c.id.desc()).limit(1)
        )
    ).first()
    if row is None:
        return None
    return await asyncio.to_thread(org.loads, row.source), int(row.id)


async def tree_source(*, session: AsyncSession, version_id: int) -> str:
    """The YAML of a stored tree version, as it was loaded."""
    row = (
        await session.execute(
            select(org_tree_versions.c.source).where(org_tree_versions.c.id == version_id)
        )
    ).first()
    return str(row.source) if row is not None else org.default_tree_text()


async def refresh_org_tree(
    *, session: AsyncSession, ctx: RoutingContext, force: bool = False
) -> None:
    """Pick up a tree version stored by the CLI or another replica (checked at most every
    ``refresh_every_s``)."""
    if not force and time.monotonic() - ctx.tree_checked_at < ctx.refresh_every_s:
        return
    ctx.tree_checked_at = time.monotonic()
    latest = (await session.execute(select(func.max(org_tree_versions.c.id)))).scalar_one()
    if latest and latest != ctx.tree_version_id:
        found = await active_org_tree(session=session)
        if found:
            ctx.tree, ctx.tree_version_id = found


def may_load_tree(principal: Principal, deployment: Deployment) -> bool:
    """Only an administrator of the deployment's own (top) unit replaces the tree it routes by:
    a tree decides routing for the whole subtree, every level below included."""
    return principal.role is Role.ADMIN and principal.org_code == deployment.scope


def forbidden_message(deployment: Deployment) -> tuple[str, str]:
    return (
        f"只有本级（{deployment.scope}）的管理员可以加载组织机构树",
        f"only an administrator of the deployment's top unit {deployment.scope} may load a tree",
    )


@dataclass(frozen=True)
class TreeChange:
    units_added: list[str] = field(default_factory=list)
    units_removed: list[str] = field(default_factory=list)
    departments_added: list[str] = field(default_factory=list)
    departments_removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "units_added": self.units_added,
            "units_removed": self.units_removed,
            "departments_added": self.departments_added,
            "departments_removed": self.departments_removed,
        }


def tree_change(old: org.OrgTree | None, new: org.OrgTree) -> TreeChange:
    old_units = set(old.units) if old else set()
    old_depts = set(old.departments) if old else set()
    return TreeChange(
        units_added=sorted(set(new.units) - old_units),
        units_removed=sorted(old_units - set(new.units)),
        departments_added=sorted(set(new.departments) - old_depts),
        departments_removed=sorted(old_depts - set(new.departments)),
    )


class TreeInUse(Exception):
    """The new tree drops units or departments that open cases are received, held, answered
    for or supervised at."""

    def __init__(self, holding: list[dict[str, Any]], change: TreeChange) -> None:
        super().__init__(", ".join(h["code"] for h in holding))
        self.holding, self.change = holding, change


_CASE_CODES = (
    cases.c.holder_code,
    cases.c.responsible_unit_code,
    cases.c.supervising_code,
    cases.c.receiving_office_code,
    cases.c.territory_code,
)


async def open_cases_at(*, session: AsyncSession, codes: set[str]) -> dict[str, int]:
    """How many open (not closed) cases each of ``codes`` is part of."""
    counts: dict[str, set[str]] = {}
    if not codes:
        return {}
    for col in _CASE_CODES:
        rows = await session.execute(
            select(col, cases.c.case_id).where(cases.c.status != "closed", col.in_(sorted(codes)))
        )
        for code, case_id in rows:
            counts.setdefault(code, set()).add(case_id)
    return {code: len(ids) for code, ids in sorted(counts.items())}


async def load_tree(
    *,
    session: AsyncSession,
    text: str,
    current: org.OrgTree | None,
    deployment: Deployment,
    actor: str,
    force: bool,
    now: datetime,
) -> tuple[org.OrgTree, int, TreeChange]:
    """Validate ``text`` (parsed off the event loop) against the deployment, refuse it if it
    drops what open cases need unless ``force``, and store it as the active version. Raises
    :class:`org.OrgTreeError` or :class:`TreeInUse`, storing nothing."""
    tree = await asyncio.to_thread(org.loads, text, scope=deployment.scope, lower=deployment.lower)
    change = tree_change(current, tree)
    removed = {*change.units_removed, *change.departments_removed}
    holding = await open_cases_at(session=session, codes=removed)
    if holding and not force:
        raise TreeInUse(
            [
                {"code": code, "name": _name(current or tree, code), "open_cases": n}
                for code, n in holding.items()
            ],
            change,
        )
    version_id = await insert_tree_version(
        session=session, tree=tree, text=text, actor=actor, now=now
    )
    return tree, version_id, change


def _name(tree: org.OrgTree, code: str) -> str:
    if unit := tree.unit(code):
        return unit.name
    dept = tree.department(code)
    return dept.name if dept else code


async def record(
    *,
    session: AsyncSession,
    actor: str,
    actor_org: str,
    outcome: str,
    now: datetime,
    version: str | None = None,
    version_id: int | None = None,
    forced: bool = False,
    reason: str | None = None,
    change: TreeChange | None = None,
    problems: list[Any] | None = None,
) -> None:
    """Audit one attempt to load a tree."""
    await session.execute(
        insert(org_tree_audit).values(
            at=now,
            actor=actor,
            actor_org=actor_org[:40],
            outcome=outcome,
            version=version,
            version_id=version_id,
            forced=forced,
            reason=reason,
            changes=change.as_dict() if change else None,
            problems=problems[:AUDIT_PROBLEMS_KEPT] if problems else None,
        )
    )


async def audit_entries(
    *, session: AsyncSession, limit: int, before: int | None = None
) -> list[dict[str, Any]]:
    """The newest attempts first (``before``: an id, to page back)."""
    q = select(org_tree_audit).order_by(org_tree_audit.c.id.desc()).limit(limit)
    if before is not None:
        q = q.where(org_tree_audit.c.id < before)
    out = []
    for row in await session.execute(q):
        entry = dict(row._mapping)
        entry.update(entry.pop("changes") or TreeChange().as_dict())
        out.append(entry)
    return out


async def loaded_by(*, session: AsyncSession, version_id: int) -> dict[str, Any]:
    v = org_tree_versions
    row = (
        await session.execute(select(v.c.loaded_by, v.c.loaded_at).where(v.c.id == version_id))
    ).first()
    return {"loaded_by": row.loaded_by, "loaded_at": row.loaded_at} if row else {}
