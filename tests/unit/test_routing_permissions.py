"""Who may object and where a case may be reassigned: rules from the tree's data, on a tree
that is not the demo's."""

from __future__ import annotations

from xinfang_routing.cases.permissions import may_object, reassign_refusal
from xinfang_routing.rules import default_rules
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import Principal

TREE = org.loads("""
version: other-city
units:
  - {code: "110100", name: 北河市, level: city}
  - {code: "110101", name: 东区, level: county, parent: "110100"}
  - {code: "110102", name: 西区, level: county, parent: "110100"}
departments:
  - {code: "110100-xf", unit: "110100", name: 北河市信访局, kind: petition_office, competences: [general]}
  - {code: "110101-xf", unit: "110101", name: 东区信访局, kind: petition_office, competences: [general]}
  - {code: "110101-jc", unit: "110101", name: 东区监察委, kind: discipline, competences: [other]}
  - {code: "110101-dc", unit: "110101", name: 东区督查室, competences: [cadre_report]}
  - {code: "110101-gt", unit: "110101", name: 东区国土局, competences: [land_requisition]}
  - {code: "110102-jc", unit: "110102", name: 西区监察委, kind: discipline, competences: [other]}
""")


def person(role: Role, org_code: str) -> Principal:
    return Principal(username="u", name="U", role=role, org_code=org_code)


def test_only_the_holding_bodys_handlers_and_leaders_object() -> None:
    holder = "110101-gt"
    assert may_object(person(Role.HANDLER, "110101-gt"), holder, TREE)
    assert may_object(person(Role.LEADER, "110101"), holder, TREE)  # the unit's leadership
    assert may_object(person(Role.LEADER, "110101-gt"), holder, TREE)
    for who in (
        person(Role.HANDLER, "110101-jc"),
        person(Role.LEADER, "110100"),
        person(Role.REGISTRAR, "110101"),
        person(Role.SUPERVISOR, "110101"),
        person(Role.ADMIN, "110100"),
    ):
        assert not may_object(who, holder, TREE), who


def test_reassignment_inside_the_subtree_and_accusations_to_accusation_bodies() -> None:
    rules = default_rules()
    county = Scope.of(person(Role.SUPERVISOR, "110101"), TREE)
    city = Scope.of(person(Role.SUPERVISOR, "110100"), TREE)

    def refusal(scope: Scope, to: str, confidential: bool) -> int | None:
        r = reassign_refusal(
            scope=scope, to_code=to, confidential=confidential, tree=TREE, rules=rules
        )
        return r.status if r else None

    assert refusal(county, "110101-gt", False) is None
    assert refusal(county, "110102-jc", True) == 403  # another county
    assert refusal(county, "110100-xf", False) == 403  # the city, above
    assert refusal(county, "110109-zz", False) == 422  # no such body
    assert refusal(county, "110101-gt", True) == 422  # not competent for accusations
    assert refusal(county, "110101-jc", True) is None  # a discipline body (by kind)
    assert refusal(county, "110101-dc", True) is None  # competent for accusations (by data)
    assert refusal(city, "110102-jc", True) is None
