"""Data scoping: a principal sees its org unit and everything below it in the org tree.

A department belongs to its unit, so a principal whose org code is a department (a handler at
清河县自然资源局, 339922-zrzy) is scoped to that unit's subtree (清河县, 339922, and below).
Outside the scope an item is answered as missing (404), never as forbidden: whether it exists
there is itself information. Pure: the org tree is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal
from xinfang_shared.org import OrgTree


class UnknownOrgCode(LookupError):
    """The code is neither an org unit nor a department of the tree."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
        self.message = f"组织机构代码不存在：{code}"
        self.message_en = f"no org unit or department with code {code}"


def unit_of(tree: OrgTree, org_code: str) -> str | None:
    """The org unit an org code stands for: the unit itself, or a department's unit."""
    if tree.unit(org_code) is not None:
        return org_code
    dept = tree.department(org_code)
    return dept.unit if dept is not None else None


def org_name(tree: OrgTree, org_code: str) -> str | None:
    """The display name of a unit or a department; None if the code is unknown."""
    if (unit := tree.unit(org_code)) is not None:
        return unit.name
    if (dept := tree.department(org_code)) is not None:
        return dept.name
    return None


@dataclass(frozen=True)
class Scope:
    principal: Principal
    tree: OrgTree = field(repr=False, compare=False)
    unit_code: str  # the principal's org unit (a department's unit)

    @classmethod
    def of(cls, principal: Principal, tree: OrgTree) -> Scope:
        """The scope of ``principal``; :class:`UnknownOrgCode` if its org is not in the tree."""
        unit = unit_of(tree, principal.org_code)
        if unit is None:
            raise UnknownOrgCode(principal.org_code)
        return cls(principal=principal, tree=tree, unit_code=unit)

    def covers(self, org_code: str) -> bool:
        """True if ``org_code`` (a unit or a department) is the principal's unit or below it.
        Unknown codes are covered by no one."""
        unit = unit_of(self.tree, org_code)
        return unit is not None and self.tree.is_ancestor(self.unit_code, unit)

    def may_handle(self, handling_unit_code: str) -> bool:
        """May the principal act on a case handled by ``handling_unit_code``? A handler only on
        the cases of their own department (or unit); anyone else on the cases in their scope.
        (Whether the role may act at all is a separate check: ``require_roles``.)"""
        if self.principal.role is Role.HANDLER:
            return handling_unit_code == self.principal.org_code
        return self.covers(handling_unit_code)

    @cached_property
    def unit_codes(self) -> frozenset[str]:
        """Every org unit code in the scope (for SQL ``IN`` filters)."""
        return frozenset(c for c in self.tree.units if self.tree.is_ancestor(self.unit_code, c))

    @cached_property
    def org_codes(self) -> frozenset[str]:
        """Every unit and department code in the scope (for SQL ``IN`` filters)."""
        units = self.unit_codes
        return units | {d.code for d in self.tree.departments.values() if d.unit in units}
