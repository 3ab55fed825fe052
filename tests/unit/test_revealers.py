"""Who may reveal a sealed informant (issue #13): the leadership of the discipline body
(纪检监察) competent for the accusation, or of one above it; decided from the org tree's data
(unit hierarchy and department kinds), whatever the tree."""

from __future__ import annotations

from typing import Any

from xinfang_intake.petitions.revealers import competent_discipline_body, may_reveal
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal

# a tree nobody wrote the rule for: its townships have discipline bodies of their own, one
# county has none, and the codes follow no pattern the code could guess
TREE: dict[str, Any] = {
    "version": "unseen-1",
    "units": [
        {"code": "620500", "name": "远山市", "level": "city"},
        {"code": "620521", "name": "东县", "level": "county", "parent": "620500"},
        {"code": "620522", "name": "西县", "level": "county", "parent": "620500"},
        {"code": "620521104", "name": "河口镇", "level": "township", "parent": "620521"},
        {"code": "620521104201", "name": "上村", "level": "village", "parent": "620521104"},
        {"code": "620522101", "name": "岭镇", "level": "township", "parent": "620522"},
    ],
    "departments": [
        {"code": "a1", "unit": "620500", "name": "远山市监委", "kind": "discipline",
         "competences": ["cadre_report"]},
        {"code": "b7", "unit": "620521", "name": "东县监委", "kind": "discipline",
         "competences": ["cadre_report"]},
        {"code": "c3", "unit": "620521104", "name": "河口镇纪委", "kind": "discipline",
         "competences": ["cadre_report"]},
        {"code": "d9", "unit": "620521", "name": "东县信访局", "kind": "petition_office",
         "competences": ["petition"]},
    ],
}  # fmt: skip


def who(org_code: str, role: Role = Role.LEADER) -> Principal:
    return Principal(username="x", name="X", role=role, org_code=org_code)


def body_name(tree: org.OrgTree, place: str) -> str | None:
    body = competent_discipline_body(tree, place)
    return body.name if body is not None else None


def test_the_competent_body_is_the_nearest_discipline_body_at_or_above_the_place() -> None:
    tree = org.parse(TREE)
    assert body_name(tree, "620521104201") == "河口镇纪委"
    assert body_name(tree, "620521") == "东县监委"
    assert body_name(tree, "620522101") == "远山市监委"  # a county without one: the city's


def test_only_leaders_of_the_competent_discipline_body_or_above_may_reveal() -> None:
    tree = org.parse(TREE)
    village = "620521104201"
    allowed = [who("c3"), who("b7"), who("a1")]
    refused = [
        who("620521104"),  # the township's own leadership: possibly the accused
        who("620521104", Role.ADMIN),
        who("620521"),  # the county's leadership
        who("d9"),  # the petition office that received it
        who("c3", Role.HANDLER),  # a discipline body's handler is not its leadership
        who("c3", Role.ADMIN),
        who("620500", Role.ADMIN),
    ]
    assert [may_reveal(tree, p, place=village) for p in allowed] == [True] * 3
    assert [may_reveal(tree, p, place=village) for p in refused] == [False] * len(refused)
    # the township's 纪委 is not competent for the county's own matters
    assert may_reveal(tree, who("c3"), place="620521") is False
    assert may_reveal(tree, who("b7"), place="620521") is True
    # nor for another county's; a service account never
    assert may_reveal(tree, who("b7"), place="620522101") is False
    service = Principal(
        username="service:x", name="x", role=Role.SERVICE, org_code="620500", kind="service"
    )
    assert may_reveal(tree, service, place=village) is False


def test_a_tree_without_discipline_bodies_lets_nobody_reveal() -> None:
    doc = {**TREE, "departments": [d for d in TREE["departments"] if d["kind"] != "discipline"]}
    tree = org.parse(doc)
    assert competent_discipline_body(tree, "620521104201") is None
    assert may_reveal(tree, who("620500"), place="620521104201") is False
