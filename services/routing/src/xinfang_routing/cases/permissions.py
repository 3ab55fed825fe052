"""Who may correct a case's route (pure: the org tree and the rules are passed in).

- 异议 (objection, A23): the body holding the case objects, so only its handlers, or the
  leadership of that body or of its unit; the body is the caller's own, from the token.
- 改派 (reassignment): a supervisor moves a case only to a body inside their own subtree, and a
  confidential accusation (检举控告) only to a body competent for accusations (纪检监察): a
  department of kind ``discipline``, or one listed as competent for a category the rules send
  down the discipline channel or keep confidential.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, unit_of
from xinfang_shared.auth.security import Principal
from xinfang_shared.org import Department, DepartmentKind, OrgTree

from xinfang_routing.rules import Rules


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    zh: str
    en: str


def may_object(principal: Principal, holder_code: str | None, tree: OrgTree) -> bool:
    """A service may (it acts for a person it names); a handler of the holding body; a leader
    of that body or of its unit."""
    if principal.role is Role.SERVICE:
        return True
    if not holder_code:
        return False
    if principal.role is Role.HANDLER:
        return principal.org_code == holder_code
    if principal.role is Role.LEADER:
        return principal.org_code in (holder_code, unit_of(tree, holder_code))
    return False


NOT_THE_HOLDER = Refusal(
    403,
    "forbidden",
    "只有该件承办单位的承办人或领导可以以本单位名义提出异议",
    "only the handlers or leaders of the body holding the case may object in its name",
)


def accusation_competences(rules: Rules) -> frozenset[str]:
    """The competences for accusations: those of the categories routed to discipline bodies
    or kept confidential."""
    return frozenset(
        r.competence
        for r in rules.categories.values()
        if r.channel == "discipline" or r.confidential
    )


def handles_accusations(dept: Department, rules: Rules) -> bool:
    return dept.kind is DepartmentKind.DISCIPLINE or bool(
        dept.competences & accusation_competences(rules)
    )


def reassign_refusal(
    *, scope: Scope, to_code: str, confidential: bool, tree: OrgTree, rules: Rules
) -> Refusal | None:
    """Why the caller may not reassign a case to ``to_code``, or None."""
    dept = tree.department(to_code)
    if dept is None:
        return Refusal(
            422,
            "unknown_department",
            f"部门代码不存在：{to_code}",
            f"unknown department {to_code}",
        )
    if not scope.covers(dept.code):
        return Refusal(
            403,
            "outside_scope",
            f"只能改派至本辖区（{scope.unit_code}）内的单位",
            f"a case may be reassigned only to a body within your subtree {scope.unit_code}",
        )
    if confidential and not handles_accusations(dept, rules):
        return Refusal(
            422,
            "not_competent",
            "检举控告件只能改派至本辖区的纪检监察机关（检举人信息保密）",
            "a confidential accusation may be reassigned only to a discipline body "
            "(纪检监察) within your subtree",
        )
    return None
