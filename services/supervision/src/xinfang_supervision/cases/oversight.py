"""Who oversees whom in the org tree (信访工作条例): who issues a 督办 order, where an escalation
goes, which office reviews and re-reviews a case. Pure functions of the tree, no I/O."""

from __future__ import annotations

from xinfang_shared import org


def display_name(tree: org.OrgTree, code: str | None) -> str:
    """What a person reads for a unit or department code."""
    if not code:
        return ""
    if d := tree.department(code):
        return d.name
    if u := tree.unit(code.split("-")[0]):
        return u.petition_office_name
    return code


def office_above(tree: org.OrgTree, code: str | None) -> str | None:
    """The petition office one level above the unit of a department or office code."""
    if not code:
        return None
    dept = tree.department(code)
    unit = tree.unit(dept.unit if dept else code.split("-")[0])
    if unit is None or unit.parent is None:
        return None
    for u in tree.ancestors(unit.parent):
        if office := tree.petition_office(u.code):
            return office.code
    return None


def _depth(tree: org.OrgTree, code: str | None) -> int:
    dept = tree.department(code or "")
    unit = tree.unit(dept.unit if dept else (code or "").split("-")[0])
    return unit.depth if unit else 99


def overseer(tree: org.OrgTree, handling: str, supervising: str | None) -> str | None:
    """Who issues the 督办 order: the office that assigned the case if it sits above the handling
    body (it keeps supervising what it assigned); for a functional department of a county or
    higher government, the petition office of that government (本级信访工作机构督办本级工作部门,
    e.g. a township's item sent to 清河县自然资源局 is supervised by 清河县信访局); else — a
    petition office holding a case (one returned to it by an objection), a township government —
    the petition office of the level above. Never the handling body itself; None at the top of
    the tree (nobody above to issue it)."""
    if (
        supervising
        and supervising != handling
        and _depth(tree, supervising) < _depth(tree, handling)
    ):
        return supervising
    dept = tree.department(handling)
    unit = tree.unit(dept.unit) if dept else None
    if (
        dept is not None
        and unit is not None
        and dept.kind is org.DepartmentKind.DEPARTMENT
        and unit.level in (org.Level.PROVINCE, org.Level.CITY, org.Level.COUNTY)
    ):
        office = tree.petition_office(unit.code)
        if office is not None and office.code != handling:
            return office.code
    above = office_above(tree, handling)
    if above is not None:
        return above
    return supervising if supervising != handling else None


def order_issuer(tree: org.OrgTree, handling: str, supervisor: str | None) -> str | None:
    """Who issues the 督办 order for an overdue deadline of ``handling``: the deadline's
    supervisor, else the overseer; None when the top of the tree holds it (nobody above issues
    one, the overdue notice reaches its own leadership)."""
    issuer = supervisor
    if issuer is None or issuer == handling:
        issuer = overseer(tree, handling, None)
    if issuer is None or issuer == handling:
        return None
    return issuer


def escalation_step(
    tree: org.OrgTree, handling: str, supervisor: str | None
) -> tuple[str | None, str | None]:
    """(who supervises the deadline now, the office one level further up); the second is None
    at the top of the tree (nothing to escalate to)."""
    current = supervisor or office_above(tree, handling)
    return current, office_above(tree, current)


def reviewing_office(tree: org.OrgTree, handling: str) -> str:
    """The office that reviews (复查) what ``handling`` decided: the petition office one level
    above it (the handling body itself at the top of the tree)."""
    return office_above(tree, handling) or handling


def rereviewing_office(tree: org.OrgTree, handling: str) -> str:
    """The office that re-reviews (复核): the one above the reviewing office."""
    reviewer = reviewing_office(tree, handling)
    return office_above(tree, reviewer) or reviewer
