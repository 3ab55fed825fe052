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


# --- issue #13: shape, size, aliases, stored lengths, the deployment's scopes ------------

ALIAS_BOMB = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
units: [*g]
"""


def test_aliases_and_anchors_are_refused_without_expanding_them() -> None:
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(ALIAS_BOMB)
    assert any("别名" in p for p in info.value.problems), info.value.problems
    anchored = GOOD.replace("version: t1", "version: &v t1")
    with pytest.raises(org.OrgTreeError):
        org.loads(anchored)


def test_a_tree_over_the_size_limit_is_refused() -> None:
    big = GOOD + "#" + "x" * org.MAX_TREE_BYTES
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(big)
    assert any("过大" in p for p in info.value.problems)


@pytest.mark.parametrize(
    "doc",
    [
        "[1, 2]",
        "units: 5",
        "units: {a: 1}\ndepartments: 7",
        'units:\n  - {code: "339900", name: 江临市, level: city, aliases: 3}\n',
        'units:\n  - {code: "339900", name: [x], level: city}\n',
        'units:\n  - {code: "339900", name: x, level: [city]}\n',
        'units:\n  - {code: "339900", name: x, level: city}\ndepartments:\n'
        '  - {code: "339900-x", unit: "339900", name: x, competences: 5}\n',
        'units:\n  - {code: "339900", name: x, level: city}\ndepartments:\n'
        '  - {code: {a: 1}, unit: "339900", name: x, kind: [1], competences: [a]}\n',
        "version: [1]\nunits: []",
        "",
        "~",
    ],
)
def test_a_document_of_the_wrong_shape_is_a_tree_error_not_a_crash(doc: str) -> None:
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(doc)
    assert info.value.details and all(p.path and p.zh and p.en for p in info.value.details)


def test_stored_fields_are_length_checked() -> None:
    long_version = GOOD.replace("version: t1", "version: " + "v" * 61)
    long_dept = GOOD.replace('code: "339922-xfj"', 'code: "339922-' + "x" * 30 + '"')
    long_name = GOOD.replace("name: 清河镇", "name: " + "镇" * 61)
    for doc, path in [
        (long_version, "version"),
        (long_dept, "departments[0].code"),
        (long_name, "units[2].name"),
    ]:
        with pytest.raises(org.OrgTreeError) as info:
            org.loads(doc)
        assert [p.path for p in info.value.details] == [path], info.value.problems


def test_a_tree_without_departments_or_a_root_petition_office_is_refused() -> None:
    with pytest.raises(org.OrgTreeError) as info:
        org.loads('version: x\nunits:\n  - {code: "339900", name: 江临市, level: city}\n')
    paths = {p.path for p in info.value.details}
    assert "departments" in paths, info.value.problems


def test_the_deployments_scope_and_lower_scopes_must_be_in_the_tree() -> None:
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(GOOD, scope="339902", lower=("339922888",))
    text = " ".join(info.value.problems)
    assert "339902" in text and "339922888" in text
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(GOOD, scope="339922", lower=("339900",))
    assert "339900 不在本级 339922 之下" in " ".join(info.value.problems)
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(GOOD, scope="339900")  # no petition office at or above the city
    assert [p.path for p in info.value.details] == ["departments"]
    assert org.loads(GOOD, scope="339922", lower=("339922101",)).version == "t1"


def test_problems_carry_a_path_and_both_languages() -> None:
    bad = GOOD.replace('parent: "339922"}', 'parent: "339988"}')
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(bad)
    [p] = info.value.details
    assert p.as_dict() == {
        "path": "units[2].parent",
        "message": "上级单位 339988 不存在",
        "message_en": "unknown parent unit 339988",
    }


def test_scope_problems_are_listed_with_the_others_and_a_parent_cycle_does_not_hang() -> None:
    bad = GOOD.replace("competences: [general]", "competences: []")
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(bad, scope="110100")
    assert {p.path for p in info.value.details} == {"departments[0].competences", "units"}
    cycle = GOOD.replace('parent: "339900"}', 'parent: "339922101"}')
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(cycle, scope="339922", lower=("339922101",))
    assert any("层级不高于" in p for p in info.value.problems)


def test_control_bidi_and_invisible_characters_are_refused_in_every_text_field() -> None:
    bad = (
        GOOD.replace("version: t1", 'version: "t\\0"')
        .replace("name: 清河镇", 'name: "清河\\u202e镇"')
        .replace('code: "339922-xfj"', 'code: "339922-\\u200bxfj"')
        .replace("name: 清河县信访局", 'name: "\\u200b\\u200b"')
        .replace("competences: [general]", 'competences: ["gen\\u0007"]')
    )
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(bad)
    paths = {p.path for p in info.value.details}
    assert {
        "version",
        "units[2].name",
        "departments[0].code",
        "departments[0].name",
        "departments[0].competences",
    } <= paths, info.value.problems
    spaced = GOOD.replace('code: "339922-xfj"', 'code: "339922 xfj"')
    with pytest.raises(org.OrgTreeError) as info:
        org.loads(spaced)
    assert [p.path for p in info.value.details] == ["departments[0].code"]
