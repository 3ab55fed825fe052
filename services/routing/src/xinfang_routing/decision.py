"""The routing decision (属地管理、分级负责、谁主管谁负责), free of I/O.

1. What (谁主管): the registrar's category, else the classifier's, else none.
2. Where (属地): the explicit location code, else the place named in the address, else in the
   text, else the receiving office itself.
3. Which level (分级负责): the rule's level above the territory (or the territory itself when it
   is already above that level); the department there competent for the category.
4. The chain (交办/转送): from the receiving office down through each level's petition office to
   the responsible body; every hop has its own transfer deadline (days per sending level).
No rule, no category or no competent department: the territory's petition office triages it by
hand. Nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from xinfang_shared.events import PetitionReceived
from xinfang_shared.org import Department, Level, OrgTree, OrgUnit
from xinfang_shared.timeutil import local_date

from xinfang_routing.classifier import Classifier
from xinfang_routing.rules import CategoryRule, Rules


@dataclass(frozen=True)
class Hop:
    action: str  # 交办 | 转送 | 直接办理
    from_code: str
    from_name: str
    to_code: str
    to_name: str
    transfer_due: date


@dataclass(frozen=True)
class Decision:
    category: str | None
    category_name: str | None
    category_source: str  # registrar | classifier | none
    kind: str | None
    channel: str  # ordinary | legal | discipline
    confidential: bool
    territory_code: str | None
    territory_source: str  # code | address | content | receiving
    responsible_unit: str
    responsible_department: str
    responsible_name: str
    needs_manual_triage: bool
    skip_level: bool
    levels_skipped: int
    reason: str
    hops: list[Hop] = field(default_factory=list)


def _territory(p: PetitionReceived, tree: OrgTree) -> tuple[OrgUnit | None, str]:
    if p.matter_location_code and (u := tree.unit(p.matter_location_code)):
        return u, "code"
    if p.matter_address and (u := tree.find_place(p.matter_address)):
        return u, "address"
    if u := tree.find_place(f"{p.title or ''} {p.content}"):
        return u, "content"
    return tree.unit(p.receiving_office_code), "receiving"


def _office_unit(tree: OrgTree, code: str) -> OrgUnit:
    """The nearest unit at or above ``code`` that has a petition office."""
    for u in tree.ancestors(code):
        if tree.petition_office(u.code):
            return u
    raise LookupError(f"no petition office above {code}")


def _competent(tree: OrgTree, unit: OrgUnit, competence: str) -> Department | None:
    for u in tree.ancestors(unit.code):
        if d := tree.competent(u.code, competence):
            return d
    return None


def _category(
    p: PetitionReceived, rules: Rules, classifier: Classifier
) -> tuple[CategoryRule | None, str]:
    if rule := rules.category(p.category):
        return rule, "registrar"
    result = classifier.classify(p.content, p.title or "")
    if result.category and (rule := rules.categories.get(result.category)):
        return rule, "classifier"
    return None, "none"


def decide(p: PetitionReceived, *, tree: OrgTree, rules: Rules, classifier: Classifier) -> Decision:
    receiving = tree.unit(p.receiving_office_code)
    if receiving is None:
        raise LookupError(f"unknown receiving office {p.receiving_office_code}")
    territory, t_source = _territory(p, tree)
    rule, c_source = _category(p, rules, classifier)
    place = territory or receiving

    dept: Department | None = None
    triage_why = ""
    if rule is None:
        triage_why = "未能确定问题类别"
    elif rule.level == "receiving":
        dept = tree.petition_office(_office_unit(tree, receiving.code).code)
    else:
        unit = tree.at_level(place.code, Level(rule.level)) or place
        dept = _competent(tree, unit, rule.competence)
        if dept is None:
            triage_why = f"{unit.name}无{rule.name}主管部门"
    manual = dept is None
    if dept is None:
        dept = tree.petition_office(_office_unit(tree, place.code).code)
        assert dept is not None
    resp_unit = tree.unit(dept.unit)
    assert resp_unit is not None

    hops = _chain(tree, rules, receiving, resp_unit, dept, local_date(p.received_at))
    skipped = resp_unit.depth - receiving.depth
    skip_level = p.channel == "visit" and skipped >= 2

    parts = []
    if rule:
        src = "登记员选定" if c_source == "registrar" else "自动识别"
        parts.append(f"问题类别：{rule.name}（{src}）")
    parts.append(f"属地：{place.name}")
    if manual:
        parts.append(f"{triage_why}，由{dept.name}人工分办")
    elif rule and rule.channel == "legal":
        parts.append(f"涉法涉诉，诉访分离，导入{dept.name}依法处理")
    elif rule and rule.channel == "discipline":
        parts.append(f"检举控告，转{dept.name}办理（保密）")
    else:
        parts.append(f"按分级负责、归口办理由{dept.name}办理")
    if p.informant_sealed and not (rule and rule.confidential):
        parts.append("检举控告，检举人信息保密")
    if skip_level:
        parts.append(f"越级访（越{skipped}级）")

    return Decision(
        category=rule.code if rule else None,
        category_name=rule.name if rule else None,
        category_source=c_source,
        # intake sealed the informant (检举控告): confidential whatever the category
        kind="检举控告" if p.informant_sealed else (rule.kind if rule else None),
        channel=rule.channel if rule else "ordinary",
        confidential=bool(rule and rule.confidential) or p.informant_sealed,
        territory_code=territory.code if territory else None,
        territory_source=t_source,
        responsible_unit=resp_unit.code,
        responsible_department=dept.code,
        responsible_name=dept.name,
        needs_manual_triage=manual,
        skip_level=skip_level,
        levels_skipped=max(skipped, 0),
        reason="；".join(parts),
        hops=hops,
    )


def _chain(
    tree: OrgTree, rules: Rules, receiving: OrgUnit, resp_unit: OrgUnit, dept: Department, day: date
) -> list[Hop]:
    start = tree.petition_office(_office_unit(tree, receiving.code).code)
    assert start is not None
    hops: list[Hop] = []

    def due(sender: OrgUnit) -> date:
        return day + timedelta(days=rules.transfer_days_from(sender.level))

    current, current_unit = start, tree.unit(start.unit)
    assert current_unit is not None
    if current_unit.code != resp_unit.code and tree.is_ancestor(current_unit.code, resp_unit.code):
        # 交办 down the levels, petition office to petition office
        path = [u for u in tree.ancestors(resp_unit.code)]
        path = list(reversed(path[: [u.code for u in path].index(current_unit.code)]))
        for unit in path:
            office = tree.petition_office(unit.code)
            if office is None:
                continue
            hops.append(
                Hop("交办", current.code, current.name, office.code, office.name, due(current_unit))
            )
            current, current_unit = office, unit
    if current.code != dept.code:
        hops.append(
            Hop("转送", current.code, current.name, dept.code, dept.name, due(current_unit))
        )
    if not hops:
        hops.append(
            Hop("直接办理", current.code, current.name, dept.code, dept.name, due(current_unit))
        )
    return hops
