from __future__ import annotations

import pytest
from xinfang_shared import org

GOOD = """
version: t1
units:
  - {code: "339900", name: 江临市, level: city}
  - {code: "339922", name: 清河县, level: county, parent: "339900"}
  - {code: "339922101", name: 清河镇, level: township, parent: "339922"}
departments:
  - {code: "339922-xfj", unit: "339922", name: 清河县信访局, kind: petition_office, competences: [general]}
"""


def test_demo_tree_has_the_required_shape() -> None:
    tree = org.default_tree()
    levels = [u.level for u in tree.units.values()]
    assert levels.count(org.Level.CITY) == 1
    assert levels.count(org.Level.COUNTY) >= 2
    assert levels.count(org.Level.TOWNSHIP) >= 5
    assert levels.count(org.Level.VILLAGE) >= 5
    county_depts = {d.code.split("-")[1] for d in tree.departments_of("339922")}
    assert {
        "xfj",
        "zrzy",
        "rsj",
        "gaj",
        "fy",
        "sthj",
        "zjj",
        "wjj",
        "jyj",
        "nyncj",
        "lyj",
        "mzj",
        "jw",
    } <= county_depts
    assert {d.code.split("-")[1] for d in tree.departments_of("339900")} == county_depts


def test_valid_tree_loads() -> None:
    tree = org.loads(GOOD)
    assert tree.version == "t1"
    assert [u.code for u in tree.ancestors("339922101")] == ["339922101", "339922", "339900"]
    assert tree.at_level("339922101", org.Level.COUNTY).code == "339922"  # type: ignore[union-attr]
    assert tree.petition_office("339922").name == "清河县信访局"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (GOOD.replace('parent: "339922"}', 'parent: "339988"}'), "上级单位 339988 不存在"),
        (GOOD.replace('code: "339922101"', 'code: "339922"'), "代码"),
        (GOOD.replace("competences: [general]", "competences: []"), "未配置职责范围"),
        (GOOD.replace('unit: "339922"', 'unit: "339977"'), "所属单位 339977 不存在"),
        (GOOD.replace("level: township", "level: hamlet"), "层级无效"),
        (
            GOOD + '  - {code: "339922-xfj", unit: "339922", name: x, competences: [a]}\n',
            "部门代码重复",
        ),
        ("units: [", "YAML"),
    ],
)
def test_invalid_trees_are_rejected_whole_with_reasons(mutation: str, expected: str) -> None:
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(mutation)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once() -> None:
    bad = GOOD.replace('parent: "339922"}', 'parent: "339988"}').replace(
        "competences: [general]", "competences: []"
    )
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(bad)
    assert len(info.value.problems) == 2


def test_address_resolution_prefers_the_deepest_consistent_place() -> None:
    tree = org.default_tree()
    assert tree.find_place("清河县柳塘乡荷花塘村五组").code == "339922102202"  # type: ignore[union-attr]
    assert tree.find_place("临江区望江街道").code == "339902002"  # type: ignore[union-attr]
    assert tree.find_place("火星") is None
