"""What the registration form and the supervisor's reassignment choose from: the org units
(township → village cascade), a unit's departments, and the categories of rules.yaml. From the
org tree routing routes by (the newest loaded version) and its rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from xinfang_shared import org
from xinfang_shared.auth.deps import not_found_outside_scope, require_roles
from xinfang_shared.auth.models import PERSON_ROLES, Role
from xinfang_shared.http import error_body

from xinfang_routing.deps import RoutingDep

router = APIRouter(
    prefix="/api/v1",
    tags=["catalog 单位与类别"],
    dependencies=[Depends(require_roles(*PERSON_ROLES, Role.SERVICE))],
)
UNIT_NOT_FOUND = error_body("not_found", "单位不存在", "no such org unit")
CODE = r"^[0-9A-Za-z-]{1,30}$"

DEPARTMENT_KIND_LABELS = {
    org.DepartmentKind.PETITION_OFFICE: "信访部门",
    org.DepartmentKind.DEPARTMENT: "职能部门",
    org.DepartmentKind.COURT: "法院",
    org.DepartmentKind.DISCIPLINE: "纪检监察机关",
}
KIND_LABELS = {"申诉求决": "申诉求决类", "建议意见": "建议意见类", "检举控告": "检举控告类"}


class OrgUnitRead(BaseModel):
    code: str
    name: str
    level: str
    level_label: str
    has_children: bool


class DepartmentRead(BaseModel):
    code: str
    name: str
    kind: str
    kind_label: str


class CategoryRead(BaseModel):
    code: str
    name: str
    kind: str = Field(description="申诉求决 / 建议意见 / 检举控告（rules.yaml）")
    kind_label: str
    confidential: bool = Field(description="检举控告：检举人保密")


def _children(tree: org.OrgTree) -> dict[str, list[str]]:
    """Each unit's children (one pass over the units)."""
    out: dict[str, list[str]] = {}
    for u in tree.units.values():
        if u.parent:
            out.setdefault(u.parent, []).append(u.code)
    return out


def _unit(u: org.OrgUnit, children: dict[str, list[str]]) -> OrgUnitRead:
    return OrgUnitRead(
        code=u.code,
        name=u.name,
        level=u.level.value,
        level_label=org.LEVEL_LABELS[u.level],
        has_children=bool(children.get(u.code)),
    )


@router.get(
    "/org/units",
    response_model=list[OrgUnitRead],
    summary="下级单位 / the units below a unit",
    description="parent 的下级单位（按代码排序）；不带 parent 时为本级单位及其下级。 / The "
    "children of parent; without it the deployment's unit and its children.",
    responses={404: {"description": "单位不存在"}},
)
async def units(
    routing: RoutingDep,
    parent: Annotated[str | None, Query(pattern=CODE, description="上级单位代码")] = None,
) -> list[OrgUnitRead]:
    tree = routing.ctx.tree
    code = parent or routing.ctx.deployment.scope
    unit = tree.unit(code)
    if unit is None:
        not_found_outside_scope(UNIT_NOT_FOUND)
    children = _children(tree)
    below = [_unit(tree.units[c], children) for c in sorted(children.get(code, []))]
    return below if parent else [_unit(unit, children), *below]


@router.get(
    "/org/departments",
    response_model=list[DepartmentRead],
    summary="单位的部门 / the departments of a unit",
    responses={404: {"description": "单位不存在"}},
)
async def departments(
    routing: RoutingDep, unit: Annotated[str, Query(pattern=CODE, description="单位代码")]
) -> list[DepartmentRead]:
    tree = routing.ctx.tree
    if tree.unit(unit) is None:
        not_found_outside_scope(UNIT_NOT_FOUND)
    return [
        DepartmentRead(
            code=d.code, name=d.name, kind=d.kind.value, kind_label=DEPARTMENT_KIND_LABELS[d.kind]
        )
        for d in sorted(
            tree.departments_of(unit), key=lambda d: (d.kind != "petition_office", d.code)
        )
    ]


@router.get(
    "/categories",
    response_model=list[CategoryRead],
    summary="问题类别 / the categories (rules.yaml)",
)
async def categories(routing: RoutingDep) -> list[CategoryRead]:
    return [
        CategoryRead(
            code=c.code,
            name=c.name,
            kind=c.kind,
            kind_label=KIND_LABELS.get(c.kind, c.kind),
            confidential=c.confidential,
        )
        for c in routing.ctx.rules.categories.values()
    ]
