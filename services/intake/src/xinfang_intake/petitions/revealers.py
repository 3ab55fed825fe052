"""Who may reveal a sealed informant (检举控告): pure rules over the org tree's data.

An accusation is handled by the discipline-inspection and supervision body (纪检监察机关,
departments of kind ``discipline`` in the org tree) competent for the place it concerns: the
nearest one at or above the matter's location (else the receiving office's unit). Its
leadership, and the leadership of the discipline bodies above it, may reveal who the informant
is. Nobody else may: not the petition office that received the report, not the leadership of
the unit whose cadres may be the accused, not administrators.
"""

from __future__ import annotations

from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal
from xinfang_shared.org import Department, DepartmentKind, OrgTree


def competent_discipline_body(tree: OrgTree, unit_code: str) -> Department | None:
    """The discipline body of the nearest unit at or above ``unit_code`` that has one."""
    for unit in tree.ancestors(unit_code):
        for dept in tree.departments_of(unit.code):
            if dept.kind is DepartmentKind.DISCIPLINE:
                return dept
    return None


def case_place(*, receiving_office_code: str, matter_location_code: str | None) -> str:
    """The unit an accusation concerns: where the matter is, else where it was received."""
    return matter_location_code or receiving_office_code


def may_reveal(tree: OrgTree, principal: Principal, *, place: str) -> bool:
    """A leader (a person, not a service) of the competent discipline body or of one above."""
    if principal.kind != "user" or principal.role is not Role.LEADER:
        return False
    own = tree.department(principal.org_code)
    if own is None or own.kind is not DepartmentKind.DISCIPLINE:
        return False
    competent = competent_discipline_body(tree, place)
    return competent is not None and tree.is_ancestor(own.unit, competent.unit)
