"""Which level sees and owns what (multi-level deployment), on the demo org tree."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from xinfang_shared import org
from xinfang_shared.levels import Deployment, DeploymentError
from xinfang_shared.settings import CommonSettings
from xinfang_shared.topics import all_topics
from xinfang_supervision.cases.oversight import overseer

TREE = org.default_tree()
CITY = Deployment("339900", ("339922",))
COUNTY = Deployment("339922", ("339922102",))
TOWNSHIP = Deployment("339922102")
LEVELS = (CITY, COUNTY, TOWNSHIP)


@pytest.mark.parametrize(
    ("code", "owner"),
    [
        ("339900-xfj", CITY),  # the city's petition bureau
        ("339902-zrzy", CITY),  # 临江区 runs no deployment of its own: the city serves it
        ("339902001001", CITY),
        ("339922", COUNTY),
        ("339922-zrzy", COUNTY),  # a county department
        ("339922101", COUNTY),  # 清河镇 runs no deployment: the county serves it
        ("339922101-xfb", COUNTY),
        ("339922102", TOWNSHIP),
        ("339922102-xfb", TOWNSHIP),
        ("339922102201", TOWNSHIP),  # a village of 柳塘乡
    ],
)
def test_exactly_one_level_owns_each_code(code: str, owner: Deployment) -> None:
    assert [lv for lv in LEVELS if lv.owns(TREE, code)] == [owner]


def test_a_level_sees_its_whole_subtree_and_nothing_beside_it() -> None:
    assert CITY.sees(TREE, "339922102-xfb")  # the city watches the township's cases
    assert COUNTY.sees(TREE, "339922102201")
    assert not COUNTY.sees(TREE, "339902-zrzy")  # the neighbouring county
    assert not TOWNSHIP.sees(TREE, "339922-zrzy")  # the county above
    assert not TOWNSHIP.sees(TREE, "339922101")  # the neighbouring township
    assert not CITY.sees(TREE, "999999") and not CITY.owns(TREE, None)


def test_a_single_deployment_owns_everything() -> None:
    whole = Deployment("339900")
    assert all(whole.owns(TREE, c) for c in [*TREE.units, *TREE.departments])
    assert whole.foreign_codes(TREE) == frozenset()
    assert "339922-zrzy" in CITY.foreign_codes(TREE)
    assert "339922102" in CITY.foreign_codes(TREE)
    assert "339902-zrzy" not in CITY.foreign_codes(TREE)


def test_each_level_reads_in_its_own_consumer_group_with_its_own_changelog() -> None:
    assert {lv.group_id("routing") for lv in LEVELS} == {
        "xinfang-routing-339900",
        "xinfang-routing-339922",
        "xinfang-routing-339922102",
    }
    names = {t.name for t in all_topics(3, tuple(lv.scope for lv in LEVELS))}
    assert {
        "xinfang-supervision-339900-emerging-changelog",
        "xinfang-supervision-339922-emerging-changelog",
        "xinfang-supervision-339922102-emerging-changelog",
        "petition.received",
    } <= names


def test_scopes_that_do_not_fit_the_tree_are_refused() -> None:
    with pytest.raises(DeploymentError, match="不在本级"):
        Deployment("339922", ("339902001",)).check(TREE)  # a township of the other county
    with pytest.raises(DeploymentError, match="不是组织机构树中的单位"):
        Deployment("339977").check(TREE)
    with pytest.raises(DeploymentError):
        Deployment("339922", ("339922",)).check(TREE)
    CITY.check(TREE)
    COUNTY.check(TREE)


def test_settings_read_the_lower_scopes() -> None:
    s = CommonSettings(org_scope="339922", org_lower_scopes=" 339922102, 339922103 ")
    assert s.deployment == Deployment("339922", ("339922102", "339922103"))
    assert CommonSettings().deployment == Deployment("339900")
    with pytest.raises(ValidationError, match="org_lower_scopes"):
        CommonSettings(org_lower_scopes="339922,清河镇")


def test_the_petition_bureau_of_the_same_government_supervises_its_departments() -> None:
    # 本级信访工作机构督办本级工作部门: the county's bureau, not the city's
    assert overseer(TREE, "339922-zrzy", "339922102-xfb") == "339922-xfj"
    # a township government answers to the county above it
    assert overseer(TREE, "339922102-zf", "339922102-xfb") == "339922-xfj"
    # the office that assigned it from above keeps supervising what it assigned
    assert overseer(TREE, "339922-zrzy", "339900-xfj") == "339900-xfj"
