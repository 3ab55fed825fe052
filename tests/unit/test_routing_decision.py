from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from xinfang_routing.cases.decision import Decision, decide
from xinfang_routing.rules import default_rules
from xinfang_shared import org
from xinfang_shared.events import PetitionReceived

from tests.unit.fixed_model import Fixed, says, unsure

RECEIVED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 on 2 March in Shanghai


def petition(**kw: Any) -> PetitionReceived:
    base: dict[str, Any] = dict(
        case_id="c-1",
        case_number="n-1",
        channel="letter",
        received_at=RECEIVED,
        receiving_office_code="339922",
        receiving_office_name="清河县信访局",
        anonymous=True,
        persons=1,
        content="反映情况。",
    )
    base.update(kw)
    return PetitionReceived.model_validate(base)


def route(model: Fixed, **kw: Any) -> Decision:
    """The decision on the demo tree when the classifier answers ``model``."""
    return decide(petition(**kw), tree=org.default_tree(), rules=default_rules(), model=model)


def chain(d: Decision) -> list[tuple[str, str, str]]:
    return [(h.action, h.from_code, h.to_code) for h in d.hops]


def test_city_visit_about_a_village_matter_goes_down_every_level_and_is_skip_level() -> None:
    d = route(
        says("village_affairs"),
        channel="visit",
        receiving_office_code="339900",
        matter_location_code="339922102201",
        content="柳树湾村村务长期不公开，村集体收益去向不明，村委会对村民的询问置之不理。",
    )
    assert d.category == "village_affairs" and d.category_source == "classifier"
    assert d.responsible_department == "339922102-zf"
    assert chain(d) == [
        ("交办", "339900-xfj", "339922-xfj"),
        ("交办", "339922-xfj", "339922102-xfb"),
        ("转送", "339922102-xfb", "339922102-zf"),
    ]
    # each hop's own transfer deadline: city 3, county 4, township 3 days from receipt
    assert [h.transfer_due for h in d.hops] == [
        date(2026, 3, 5),
        date(2026, 3, 6),
        date(2026, 3, 5),
    ]
    assert d.skip_level and d.levels_skipped == 2


def test_county_receives_land_requisition_and_transfers_to_natural_resources() -> None:
    d = route(
        says("land_requisition"),
        matter_address="清河县石门镇青山村",
        content="我家承包地被征收，青苗补偿费一直没有发放。",
    )
    assert d.territory_code == "339922103202" and d.territory_source == "address"
    assert d.responsible_department == "339922-zrzy"
    assert chain(d) == [("转送", "339922-xfj", "339922-zrzy")]
    assert not d.skip_level and not d.needs_manual_triage


def test_litigation_goes_to_the_court_channel_not_the_petition_flow() -> None:
    d = route(
        says("court_enforcement", legal=True),
        content="我的借贷纠纷案件判决生效已两年，申请执行后执行法官一直拖着，被执行人有房有车却说无财产可执行。",
    )
    assert d.category == "court_enforcement"
    assert d.channel == "legal" and d.responsible_department == "339922-fy"
    assert "诉访分离" in d.reason


def test_accusation_goes_to_discipline_inspection_and_is_confidential() -> None:
    d = route(
        says("cadre_report", accusation=True),
        content="举报石门村村支书在低保评定中优亲厚友，把不符合条件的亲戚纳入低保。",
    )
    assert d.category == "cadre_report" and d.channel == "discipline" and d.confidential
    assert d.responsible_department == "339922-jw"


def test_suggestion_is_answered_by_the_receiving_office() -> None:
    d = route(
        says("suggestion"),
        receiving_office_code="339922101",
        content="建议在清河镇中心小学门口增设红绿灯和减速带，保障学生上下学安全。",
    )
    assert d.category == "suggestion" and d.kind == "建议意见"
    assert chain(d) == [("直接办理", "339922101-xfb", "339922101-xfb")]


def test_unclassifiable_item_goes_to_the_petition_office_of_its_level_for_manual_triage() -> None:
    village_matter = unsure(("village_affairs", 0.3), ("suggestion", 0.2))
    d = route(
        village_matter,
        receiving_office_code="339900",
        matter_location_code="339922103201",
        content="有事情想当面反映。",
    )
    assert d.category is None and d.needs_manual_triage
    assert d.responsible_department == "339922103-xfb"  # the township's petition office
    assert d.hops[-1].to_code == "339922103-xfb"
    assert "人工分办" in d.reason
    county_matter = unsure(("village_affairs", 0.3), ("land_requisition", 0.2))
    d = route(county_matter, matter_location_code="339922103201", content="有事情想当面反映。")
    assert d.responsible_department == "339922-xfj"  # a township cannot triage county matters


def test_registrar_category_wins_over_the_classifier() -> None:
    d = route(says("village_affairs"), category="林业林权", content="山林被邻村的人占了。")
    assert d.category == "forestry" and d.category_source == "registrar"
    d = route(says("environment_pollution"), category="forestry", content="工地噪音扰民")
    assert d.category == "forestry"


def test_city_level_matter_received_at_a_township_is_transferred_straight_to_the_city() -> None:
    d = route(
        says("enterprise_restructuring"),
        receiving_office_code="339922101",
        content="原国企江临纺织厂改制时买断工龄的补偿标准过低，请求重新核定。",
    )
    assert d.category == "enterprise_restructuring"
    assert chain(d) == [("转送", "339922101-xfb", "339900-rsj")]


def test_place_named_in_the_text_is_the_territory() -> None:
    d = route(
        says("environment_pollution"),
        receiving_office_code="339900",
        content="望江街道湖塘村附近的化工厂夜里偷排废水，河水发黑发臭。",
    )
    assert d.territory_code == "339902002201" and d.territory_source == "content"
    assert d.responsible_department == "339902-sthj"
    assert chain(d)[0] == ("交办", "339900-xfj", "339902-xfj")


def test_matter_at_city_level_stays_at_the_city() -> None:
    d = route(
        says("suggestion"),
        receiving_office_code="339900",
        matter_location_code="339900",
        content="全市公交车频繁晚点，希望政府优化线路。建议增设夜班车。",
    )
    assert d.responsible_department == "339900-xfj"


def test_every_rule_has_a_competent_department_in_the_demo_tree() -> None:
    tree = org.default_tree()
    comps = {c for d in tree.departments.values() for c in d.competences}
    assert {r.competence for r in default_rules().categories.values()} <= comps
