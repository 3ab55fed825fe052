"""Which part of the org tree a deployment serves: the multi-level (city, county, township) setup.

The same service images run once per level, each configured with the root of the subtree it
serves (``XF_ORG_SCOPE``) and the roots of the subtrees below it that run their own deployment
(``XF_ORG_LOWER_SCOPES``). All levels share one Kafka cluster and the same topics; each level's
services read them in their own consumer groups and keep what concerns their subtree:

- a level **sees** every code in its subtree, lower deployments' subtrees included (a county
  watches its townships' cases, lists them, is told of what is escalated to it);
- a level **owns** the codes it sees that no lower deployment serves: it routes the petitions
  received there, runs the deadline clock of the cases held there (reminders, 督办, escalation)
  and delivers the notifications of the people there. Exactly one level owns any code, so no
  petition is routed twice and no notice is sent twice, however many levels read the event.

With no lower scopes (the default single deployment) a level owns everything it sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.org import OrgTree


class DeploymentError(ValueError):
    """The configured scopes do not fit the org tree."""


def _unit_of(tree: OrgTree, code: str | None) -> str | None:
    if not code:
        return None
    if tree.unit(code) is not None:
        return code
    dept = tree.department(code)
    return dept.unit if dept is not None else None


@dataclass(frozen=True)
class Deployment:
    scope: str
    lower: tuple[str, ...] = ()

    def check(self, tree: OrgTree) -> None:
        """Raise :class:`DeploymentError` unless the scope is an org unit of ``tree`` and every
        lower scope a unit strictly below it."""
        if tree.unit(self.scope) is None:
            raise DeploymentError(f"XF_ORG_SCOPE {self.scope} 不是组织机构树中的单位")
        for code in self.lower:
            if tree.unit(code) is None or code == self.scope:
                raise DeploymentError(f"XF_ORG_LOWER_SCOPES 中的 {code} 不是本级以下的单位")
            if not tree.is_ancestor(self.scope, code):
                raise DeploymentError(
                    f"XF_ORG_LOWER_SCOPES 中的 {code} 不在本级 {self.scope} 的辖区内"
                )

    def sees(self, tree: OrgTree, code: str | None) -> bool:
        """``code`` (a unit or a department) is in this level's subtree."""
        unit = _unit_of(tree, code)
        return unit is not None and tree.is_ancestor(self.scope, unit)

    def owns(self, tree: OrgTree, code: str | None) -> bool:
        """``code`` is in this level's subtree and not in a lower deployment's."""
        unit = _unit_of(tree, code)
        if unit is None or not tree.is_ancestor(self.scope, unit):
            return False
        return not any(tree.is_ancestor(low, unit) for low in self.lower)

    def sees_any(self, tree: OrgTree, *codes: str | None) -> bool:
        return any(self.sees(tree, c) for c in codes)

    def foreign_codes(self, tree: OrgTree) -> frozenset[str]:
        """Every unit and department code served by a lower deployment (for SQL filters)."""
        if not self.lower:
            return frozenset()
        units = {u for u in tree.units if any(tree.is_ancestor(low, u) for low in self.lower)}
        depts = {d.code for u in units for d in tree.departments_of(u)}
        return frozenset(units | depts)

    def group_id(self, service: str) -> str:
        """The Kafka consumer group (faust app id) of ``service`` at this level: every level
        reads every event, in its own group."""
        return f"xinfang-{service}-{self.scope}"

    def source(self, service: str) -> str:
        """The CloudEvents ``source`` of what ``service`` publishes at this level."""
        return f"/xinfang/{service}/{self.scope}"
