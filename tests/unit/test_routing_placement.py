"""Routing's placement rules (issue #14) on a small tree built here, with a stand-in classifier
of fixed answers: they follow from the tree's structure and the rules, not one city's names.

The tree: 北岭市 (petition bureau, 纪委监委, HR & social security) → 南山县 (petition bureau,
natural resources, forestry, the city environment bureau's county branch, court, 纪委监委; no
health department anywhere) → 桃源镇 (a
petition office and its government, competent for nothing in particular) and 梨花乡 (a petition
office, its government, and an office competent for village affairs) → their villages."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
import yaml
from xinfang_routing.cases.decision import Decision, decide
from xinfang_routing.rules import Rules
from xinfang_routing.rules import parse as parse_rules
from xinfang_shared import org
from xinfang_shared.events import PetitionReceived
from xinfang_shared.org import DepartmentKind

from tests.unit.fixed_model import Fixed, says, unsure

CITY, COUNTY, TAOYUAN, LIHUA = "410100", "410122", "410122101", "410122102"
TAOYUAN_VILLAGE, LIHUA_VILLAGE = "410122101201", "410122102201"


def _dept(code: str, unit: str, name: str, kind: str, *competences: str) -> dict[str, Any]:
    return {
        "code": code,
        "unit": unit,
        "name": name,
        "kind": kind,
        "competences": list(competences or ["general"]),
    }


def tree_doc() -> dict[str, Any]:
    return {
        "version": "placement-test",
        "units": [
            {"code": CITY, "name": "北岭市", "level": "city"},
            {"code": COUNTY, "name": "南山县", "level": "county", "parent": CITY},
            {"code": TAOYUAN, "name": "桃源镇", "level": "township", "parent": COUNTY},
            {"code": LIHUA, "name": "梨花乡", "level": "township", "parent": COUNTY},
            {"code": TAOYUAN_VILLAGE, "name": "桃源村", "level": "village", "parent": TAOYUAN},
            {"code": LIHUA_VILLAGE, "name": "梨花村", "level": "village", "parent": LIHUA},
        ],
        "departments": [
            _dept("city-xf", CITY, "北岭市信访局", "petition_office", "suggestion", "general"),
            _dept("city-jw", CITY, "北岭市纪委监委", "discipline", "cadre_report"),
            _dept("city-rs", CITY, "北岭市人力资源和社会保障局", "department", "wage_arrears"),
            _dept("c-xf", COUNTY, "南山县信访局", "petition_office", "suggestion", "general"),
            _dept("c-zr", COUNTY, "南山县自然资源局", "department", "land_requisition"),
            _dept("c-ly", COUNTY, "南山县林业局", "department", "forestry"),
            _dept(
                "c-hb", COUNTY, "北岭市生态环境局南山县分局", "department", "environment_pollution"
            ),
            _dept("c-fy", COUNTY, "南山县人民法院", "court", "litigation", "court_enforcement"),
            _dept("c-jw", COUNTY, "南山县纪委监委", "discipline", "cadre_report"),
            _dept("ty-xf", TAOYUAN, "桃源镇信访办", "petition_office", "suggestion", "general"),
            _dept("ty-zf", TAOYUAN, "桃源镇人民政府", "department", "general"),
            _dept("lh-xf", LIHUA, "梨花乡信访办", "petition_office", "suggestion", "general"),
            _dept("lh-zf", LIHUA, "梨花乡人民政府", "department", "general"),
            _dept("lh-jg", LIHUA, "梨花乡农村经营管理站", "department", "village_affairs"),
        ],
    }


def make_tree(*, without: tuple[str, ...] = ()) -> org.OrgTree:
    doc = tree_doc()
    doc["departments"] = [d for d in doc["departments"] if d["code"] not in without]
    return org.parse(doc)


CATEGORIES = {
    "land_requisition": ("土地征收补偿", "申诉求决", "county", "ordinary"),
    "forestry": ("林业林权", "申诉求决", "county", "ordinary"),
    "medical_dispute": ("医疗纠纷", "申诉求决", "county", "ordinary"),
    "environment_pollution": ("环境污染", "申诉求决", "county", "ordinary"),
    "wage_arrears": ("拖欠农民工工资", "申诉求决", "county", "ordinary"),
    "village_affairs": ("村务管理", "申诉求决", "township", "ordinary"),
    "litigation": ("涉诉案件", "申诉求决", "county", "legal"),
    "court_enforcement": ("法院执行", "申诉求决", "county", "legal"),
    "cadre_report": ("检举控告", "检举控告", "county", "discipline"),
    "suggestion": ("建议意见", "建议意见", "receiving", "ordinary"),
}


def make_rules() -> Rules:
    """These categories, with the shipped placement data and 诉访分离 signals."""
    shipped = yaml.safe_load(
        resources.files("xinfang_routing").joinpath("data/rules.yaml").read_text(encoding="utf-8")
    )
    cats = {
        code: {
            "name": name,
            "kind": kind,
            "competence": code,
            "level": level,
            "channel": channel,
            "confidential": channel == "discipline",
        }
        for code, (name, kind, level, channel) in CATEGORIES.items()
    }
    return parse_rules({**shipped, "categories": cats})


RULES = make_rules()
TREE = make_tree()


def route(
    model: Fixed, content: str = "反映情况。", *, tree: org.OrgTree = TREE, **kw: Any
) -> Decision:
    base: dict[str, Any] = dict(
        case_id="c-1",
        case_number="n-1",
        channel="letter",
        received_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        receiving_office_code=COUNTY,
        receiving_office_name="南山县信访局",
        anonymous=True,
        persons=1,
        content=content,
    )
    base.update(kw)
    return decide(PetitionReceived.model_validate(base), tree=tree, rules=RULES, model=model)


# --- (a) triage belongs to the level whose competence is missing -----------------------------


def test_a_county_matter_with_no_competent_body_is_triaged_by_the_county_not_the_township() -> None:
    d = route(
        says("medical_dispute", 0.8, ("land_requisition", 0.1)),
        receiving_office_code=TAOYUAN,
        matter_location_code=TAOYUAN_VILLAGE,
    )
    assert d.needs_manual_triage and d.category == "medical_dispute"
    assert d.responsible_department == "c-xf"  # not 桃源镇信访办
    assert "南山县无医疗纠纷主管部门" in d.reason and "人工分办" in d.reason
    assert [(h.action, h.to_code) for h in d.hops] == [("转送", "c-xf")]
    assert [s.category for s in d.suggestions] == ["medical_dispute", "land_requisition"]


def test_a_county_matter_whose_county_lacks_the_body_goes_to_the_competent_body_above() -> None:
    d = route(says("wage_arrears"), matter_location_code=LIHUA_VILLAGE)
    assert not d.needs_manual_triage and d.responsible_department == "city-rs"


# --- the classifier abstains: triage, with its top suggestions -------------------------------


def test_an_item_the_classifier_is_unsure_of_goes_to_triage_with_its_top_three_suggestions() -> (
    None
):
    model = unsure(
        ("forestry", 0.31),
        ("land_requisition", 0.28),
        ("village_affairs", 0.2),
        ("litigation", 0.1),
    )
    d = route(model, receiving_office_code=CITY, matter_location_code=TAOYUAN_VILLAGE)
    assert d.needs_manual_triage and d.category is None and d.category_source == "none"
    assert [(s.category, s.name, s.probability) for s in d.suggestions] == [
        ("forestry", "林业林权", 0.31),
        ("land_requisition", "土地征收补偿", 0.28),
        ("village_affairs", "村务管理", 0.2),
    ]
    # county matters among the suggestions: the county's office can triage all of them
    assert d.responsible_department == "c-xf"
    assert "林业林权（0.31）" in d.reason


def test_an_unsure_item_whose_suggestions_are_all_township_matters_is_triaged_by_the_township() -> (
    None
):
    d = route(unsure(("village_affairs", 0.4)), matter_location_code=TAOYUAN_VILLAGE)
    assert d.needs_manual_triage and d.responsible_department == "ty-xf"


# --- (b) township matters go to the township ------------------------------------------------


def test_a_township_matter_goes_to_the_townships_competent_department_first() -> None:
    d = route(
        says("village_affairs"), receiving_office_code=CITY, matter_location_code=LIHUA_VILLAGE
    )
    assert d.responsible_department == "lh-jg" and not d.needs_manual_triage


def test_a_township_matter_with_no_competent_township_department_goes_to_its_government() -> None:
    d = route(says("village_affairs"), matter_location_code=TAOYUAN_VILLAGE)
    assert d.responsible_department == "ty-zf" and not d.needs_manual_triage
    assert "由其人民政府办理" in d.reason
    assert [(h.action, h.to_code) for h in d.hops] == [("交办", "ty-xf"), ("转送", "ty-zf")]


def test_a_township_government_is_found_by_its_name_whatever_its_code() -> None:
    doc = tree_doc()
    doc["units"][2]["aliases"] = ["桃源街道"]
    for dept in doc["departments"]:
        if dept["code"] == "ty-zf":
            dept["code"], dept["name"] = "410122101-g", "桃源街道办事处"
    d = route(says("village_affairs"), tree=org.parse(doc), matter_location_code=TAOYUAN_VILLAGE)
    assert d.responsible_department == "410122101-g"


def test_a_township_matter_placed_only_at_the_county_is_triaged_by_the_county() -> None:
    d = route(says("village_affairs"), matter_location_code=COUNTY)
    assert d.needs_manual_triage and d.responsible_department == "c-xf"


# --- sealed items: only a discipline body, or a petition office to triage -------------------


def test_a_sealed_accusation_goes_to_the_discipline_body_of_its_level() -> None:
    d = route(
        says("cadre_report", accusation=True),
        matter_location_code=TAOYUAN_VILLAGE,
        informant_sealed=True,
    )
    assert d.responsible_department == "c-jw" and d.channel == "discipline"
    assert d.confidential and d.kind == "检举控告" and not d.needs_manual_triage


def test_an_accusation_the_classifier_places_elsewhere_is_triaged_sealed_never_at_the_town() -> (
    None
):
    """The classifier sees an accusation but ranks village affairs first: a petition office
    of the accusation's level triages it, not the township (whose government may be accused)."""
    d = route(
        says("village_affairs", 0.5, ("cadre_report", 0.3), accusation=True),
        receiving_office_code=TAOYUAN,
        matter_location_code=TAOYUAN_VILLAGE,
    )
    assert d.confidential and d.needs_manual_triage
    assert d.responsible_department == "c-xf"
    assert [s.category for s in d.suggestions] == ["village_affairs", "cadre_report"]
    assert "检举人信息保密" in d.reason


def test_the_registrars_category_never_unseals_and_never_sends_a_sealed_item_to_a_department() -> (
    None
):
    d = route(
        says("land_requisition"),
        category="土地征收补偿",
        informant_sealed=True,
        matter_location_code=LIHUA_VILLAGE,
    )
    assert d.category == "land_requisition" and d.category_source == "registrar"
    assert d.confidential and d.needs_manual_triage and d.responsible_department == "c-xf"


def test_with_no_discipline_body_in_the_tree_a_sealed_accusation_goes_to_a_petition_office() -> (
    None
):
    d = route(
        says("cadre_report", accusation=True),
        tree=make_tree(without=("c-jw", "city-jw")),
        matter_location_code=TAOYUAN_VILLAGE,
        informant_sealed=True,
    )
    assert d.needs_manual_triage and d.responsible_department == "c-xf" and d.confidential
    assert "无纪检监察机关" in d.reason


SEALED_CASES = [
    says("cadre_report", accusation=True),
    says("village_affairs", accusation=True),
    says("land_requisition"),
    says("litigation", legal=True),
    says("forestry", 0.5, ("land_requisition", 0.3)),
    says("suggestion"),
    unsure(("cadre_report", 0.2), ("village_affairs", 0.19), accusation=True),
]


@pytest.mark.parametrize("model", SEALED_CASES)
@pytest.mark.parametrize("where", [TAOYUAN_VILLAGE, LIHUA_VILLAGE, COUNTY, CITY])
def test_a_sealed_item_reaches_only_a_discipline_body_or_a_petition_office(
    model: Fixed, where: str
) -> None:
    d = route(
        model,
        "县林业局的人和南山县自然资源局的人都知道这件事。",  # names departments: no effect
        receiving_office_code=CITY,
        matter_location_code=where,
        informant_sealed=True,
    )
    kind = TREE.departments[d.responsible_department].kind
    assert d.confidential
    assert kind in (DepartmentKind.DISCIPLINE, DepartmentKind.PETITION_OFFICE)
    assert d.responsible_unit in (COUNTY, CITY)  # never the township of a village matter


# --- (c) 诉访分离: a matter already in review, litigation or arbitration -----------------------


@pytest.mark.parametrize(
    "text",
    [
        "县里对我家的征收补偿决定我不服，已经申请了行政复议，复议机关到现在没答复。",
        "征收补偿的事我起诉了，一审判决驳回，我不服。",
        "补偿款的事仲裁裁决下来了，对方就是不给。",
    ],
)
def test_a_matter_under_review_litigation_or_arbitration_goes_to_the_legal_channel(
    text: str,
) -> None:
    d = route(says("land_requisition", 0.8, ("litigation", 0.1)), text)
    assert d.channel == "legal" and d.category == "litigation"
    assert d.responsible_department == "c-fy"  # not the natural resources bureau
    assert "诉访分离" in d.reason and "来信述及" in d.reason


@pytest.mark.parametrize(
    "text",
    [
        "征收补偿一直不到位，再不解决我就要去起诉了。",
        "乡里让我去法院起诉，我们老人打不起官司，只想把补偿拿到。",
        "我准备申请行政复议，但想先请县里核实一下补偿标准。",
    ],
)
def test_a_proceeding_only_threatened_or_advised_does_not_leave_the_ordinary_channel(
    text: str,
) -> None:
    d = route(says("land_requisition", 0.8, ("litigation", 0.1)), text)
    assert d.channel == "ordinary" and d.responsible_department == "c-zr"


def test_an_agencys_own_enforcement_notice_is_no_court_proceeding() -> None:
    d = route(
        says("land_requisition", 0.8, ("court_enforcement", 0.05)),
        "没有收到任何征收决定和强制执行通知，房子就被推了。",
    )
    assert d.channel == "ordinary" and d.responsible_department == "c-zr"


def test_the_classifiers_legal_decision_sends_to_the_legal_channel() -> None:
    d = route(says("court_enforcement", legal=True), "欠我的钱判了两年，一分没见着。")
    assert d.channel == "legal" and d.responsible_department == "c-fy"


def test_the_registrars_category_is_not_moved_to_the_legal_channel() -> None:
    d = route(says("land_requisition"), "征收决定已经申请了行政复议。", category="land_requisition")
    assert d.channel == "ordinary" and d.responsible_department == "c-zr"


# --- (d) 谁主管谁负责: a letter that names the competent department ---------------------------


def test_a_letter_naming_the_body_competent_for_a_runner_up_goes_to_that_body() -> None:
    d = route(
        says("land_requisition", 0.55, ("forestry", 0.3)),
        "我家的山被人占了，去县林业局问过几次，没人管。",
        matter_location_code=TAOYUAN_VILLAGE,
    )
    assert d.responsible_department == "c-ly" and d.category == "forestry"
    assert d.category_source == "named"
    assert "来信点名“林业局”" in d.reason and "候选第2位" in d.reason


def test_a_branch_of_a_higher_bureau_is_named_by_its_bureaus_name() -> None:
    """谁主管谁负责: a hospital's waste water, a health matter by who caused it, is the
    environment bureau's when the letter asks it, here a city bureau's county branch."""
    d = route(
        says("medical_dispute", 0.5, ("environment_pollution", 0.3)),
        "县医院的污水直接排到河里，请生态环境局来查。",
    )
    assert d.responsible_department == "c-hb" and d.category == "environment_pollution"


def test_a_letter_naming_the_classifiers_own_choice_among_others_keeps_it() -> None:
    d = route(
        says("environment_pollution", 0.5, ("forestry", 0.3)),
        "请县生态环境局、县林业局联合检查。",
    )
    assert d.responsible_department == "c-hb" and d.category_source == "classifier"


def test_an_unsure_item_naming_the_body_competent_for_a_suggestion_goes_to_it() -> None:
    d = route(
        unsure(("forestry", 0.3), ("land_requisition", 0.25)), "请南山县林业局来看一下这片山。"
    )
    assert not d.needs_manual_triage and d.responsible_department == "c-ly"


@pytest.mark.parametrize(
    ("model", "text"),
    [
        # the named body's category is too improbable
        (says("land_requisition", 0.9, ("forestry", 0.05)), "我去县林业局问过。"),
        # two bodies named: the letter does not settle it
        (says("land_requisition", 0.5, ("forestry", 0.3)), "县林业局和县自然资源局都来过。"),
        # a body the classifier does not suggest
        (says("land_requisition", 0.9, ("litigation", 0.05)), "县林业局的人也来看过。"),
    ],
)
def test_a_named_body_does_not_override_the_classifier_when_it_settles_nothing(
    model: Fixed, text: str
) -> None:
    d = route(model, text)
    assert d.responsible_department == "c-zr" and d.category_source == "classifier"


def test_a_named_government_suffix_alone_names_no_body() -> None:
    d = route(
        unsure(("village_affairs", 0.3), ("land_requisition", 0.2)),
        "人民政府应该管一管。",
        matter_location_code=TAOYUAN_VILLAGE,
    )
    assert d.needs_manual_triage
