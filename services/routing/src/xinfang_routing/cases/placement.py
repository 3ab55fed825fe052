"""Where in the org tree an item goes (属地管理、分级负责、谁主管谁负责), read from the tree and
the rules only, never from one city's names. Pure functions, no I/O.

- The body for a category: the department competent for it at the rule's level above the
  territory; for a township-level matter with no competent township department, the
  township's own government (a department named <township><government suffix>); failing
  those, the nearest competent department above.
- Triage (人工分办) belongs to the petition office of the level whose competence is missing,
  not to a lower one (a township cannot triage a county matter).
- A discipline body (纪检监察) is looked for among the discipline departments only.
- A department named in a letter: by its full name, or by a part of it once the names of its
  unit and the units above are left out (县林业局 names 清河县林业局, 生态环境局 names
  江临市生态环境局清河县分局, when that is the body the rules place the matter at).
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.org import Department, DepartmentKind, Level, OrgTree, OrgUnit

from xinfang_routing.rules import CategoryRule, Rules

MIN_SHORT_NAME = 3  # a name shorter than this once its unit is left out names nothing


@dataclass(frozen=True)
class Body:
    """The body placed for a category, or None (``unit`` then says whose competence is
    missing); ``how``: competent | government | above | missing."""

    department: Department | None
    unit: OrgUnit
    how: str


def office_unit(tree: OrgTree, code: str) -> OrgUnit:
    """The nearest unit at or above ``code`` that has a petition office."""
    for u in tree.ancestors(code):
        if tree.petition_office(u.code):
            return u
    raise LookupError(f"no petition office above {code}")


def triage_office(tree: OrgTree, unit: OrgUnit) -> Department:
    """The petition office that triages a matter of ``unit``'s level: its own, else the
    nearest above (never one below)."""
    office = tree.petition_office(office_unit(tree, unit.code).code)
    assert office is not None
    return office


def level_unit(tree: OrgTree, place: OrgUnit, level: str) -> OrgUnit:
    """The unit at ``level`` above the territory; the territory itself when it is already above
    that level (a matter known only at the county is the county's)."""
    return tree.at_level(place.code, Level(level)) or place


def government(tree: OrgTree, unit: OrgUnit, suffixes: tuple[str, ...]) -> Department | None:
    """The unit's own government as the tree lists it (柳塘乡人民政府, 滨江街道办事处)."""
    names = {f"{n}{s}" for n in (unit.name, *unit.aliases) for s in suffixes}
    for d in tree.departments_of(unit.code):
        if d.kind is DepartmentKind.DEPARTMENT and d.name in names:
            return d
    return None


def body_for(tree: OrgTree, rules: Rules, place: OrgUnit, rule: CategoryRule) -> Body:
    unit = level_unit(tree, place, rule.level)
    if d := tree.competent(unit.code, rule.competence):
        return Body(d, unit, "competent")
    if rule.level == Level.TOWNSHIP.value and unit.level is Level.TOWNSHIP:
        if g := government(tree, unit, rules.placement.government_suffixes):
            return Body(g, unit, "government")
    for above in tree.ancestors(unit.code):
        if above.code != unit.code and (d := tree.competent(above.code, rule.competence)):
            return Body(d, unit, "above")
    return Body(None, unit, "missing")


def discipline_body(tree: OrgTree, place: OrgUnit, rule: CategoryRule) -> Department | None:
    """The discipline body (纪检监察) competent for ``rule`` at its level or above; never an
    ordinary department or a government, whatever the tree lists as competent."""
    unit = level_unit(tree, place, rule.level)
    for u in tree.ancestors(unit.code):
        for d in tree.departments_of(u.code):
            if d.kind is DepartmentKind.DISCIPLINE and rule.competence in d.competences:
                return d
    return None


def names_of(tree: OrgTree, dept: Department, generic: tuple[str, ...] = ()) -> tuple[str, ...]:
    """How a letter may name ``dept``: its full name, and each part of it left once the names
    of its unit and the units above are taken out (清河县林业局 → 林业局; 江临市生态环境局清河县分局
    → 生态环境局), at least MIN_SHORT_NAME characters and not a ``generic`` one (人民政府)."""
    names = sorted(
        {n for u in tree.ancestors(dept.unit) for n in (u.name, *u.aliases)}, key=len, reverse=True
    )
    rest = dept.name
    for n in names:
        rest = rest.replace(n, "\0")
    parts = [p for p in rest.split("\0") if len(p) >= MIN_SHORT_NAME and p not in generic]
    return tuple(dict.fromkeys([dept.name, *parts]))


def named_in(
    tree: OrgTree, text: str, dept: Department, generic: tuple[str, ...] = ()
) -> str | None:
    """How ``text`` names ``dept`` (see :func:`names_of`), or None."""
    return next((n for n in names_of(tree, dept, generic) if n in text), None)
