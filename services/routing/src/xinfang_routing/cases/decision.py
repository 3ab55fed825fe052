"""The routing decision (属地管理、分级负责、谁主管谁负责、诉访分离), free of I/O.

1. What (谁主管): the registrar's category, else the learned classifier's (loaded once at
   start and passed in). When the classifier abstains there is no category: a person triages
   the item (人工分办), shown the classifier's top suggestions.
2. Sealed (检举控告): intake sealed the informant, or the classifier treats the item as an
   accusation (a registrar's category never unseals it). Confidential, and only a discipline
   body (纪检监察) may receive it, for an accusation category; anything else sealed is triaged
   by the petition office of the accusation rule's level (never an ordinary department or a
   government: a confidential accusation must not reach the unit of the accused).
3. 诉访分离: the classifier's legal decision, or a sign in the text that the matter is already
   in administrative review, litigation or arbitration (rules.yaml `legal_proceedings`), sends
   a category the classifier chose to the legal category it ranks highest (the court), not
   to the body whose decision it is.
4. Where (属地): the explicit location code, else the place named in the address, else in the
   text, else the receiving office itself.
5. Which body (分级负责): the department competent at the rule's level above the territory (a
   township matter with no competent township department: the township's government; else
   the nearest competent body above), see placement.py. A letter that names the department
   competent for one of the classifier's top suggestions goes to that department.
6. No category or no competent body: the petition office of the level whose competence is
   missing triages it by hand. Nothing is dropped.
7. The chain (交办/转送): from the receiving office down through each level's petition office to
   the responsible body; every hop has its own transfer deadline (days per sending level).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Protocol

from xinfang_shared.classifier import Result
from xinfang_shared.events import CategorySuggestion, PetitionReceived
from xinfang_shared.org import LEVEL_DEPTH, Department, DepartmentKind, Level, OrgTree, OrgUnit
from xinfang_shared.timeutil import local_date

from xinfang_routing.cases.placement import (
    body_for,
    discipline_body,
    level_unit,
    named_in,
    office_unit,
    triage_office,
)
from xinfang_routing.rules import CategoryRule, Rules

REASON_MAX = 500  # routing_hops.reason


class Classifies(Protocol):
    """The learned classifier (xinfang_shared.classifier.Model) as the decision uses it."""

    def classify(self, content: str, title: str = "") -> Result: ...


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
    category_source: str  # registrar | classifier | named | none
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
    # manual triage: the classifier's most probable categories, for the person who decides
    suggestions: tuple[CategorySuggestion, ...] = ()


def _territory(p: PetitionReceived, tree: OrgTree) -> tuple[OrgUnit | None, str]:
    if p.matter_location_code and (u := tree.unit(p.matter_location_code)):
        return u, "code"
    if p.matter_address and (u := tree.find_place(p.matter_address)):
        return u, "address"
    if u := tree.find_place(f"{p.title or ''} {p.content}"):
        return u, "content"
    return tree.unit(p.receiving_office_code), "receiving"


def suggestions_of(result: Result, rules: Rules) -> tuple[CategorySuggestion, ...]:
    """The classifier's most probable categories known to the rules (code, Chinese name,
    probability), as many as rules.yaml `placement.suggestions` says (3)."""
    out: list[CategorySuggestion] = []
    for code, prob in result.ranked:
        if len(out) == rules.placement.suggestions:
            break
        if rule := rules.categories.get(code):
            out.append(CategorySuggestion(category=code, name=rule.name, probability=prob))
    return tuple(out)


def _best_legal(rules: Rules, result: Result) -> CategoryRule | None:
    """The legal-channel category the classifier ranks highest."""
    for code, _ in result.ranked:
        if (rule := rules.categories.get(code)) and rule.channel == "legal":
            return rule
    return next((r for r in rules.categories.values() if r.channel == "legal"), None)


def _accusation_level(rules: Rules, rule: CategoryRule | None) -> str | None:
    if rule is not None and rule.channel == "discipline":
        return rule.level
    found = next((r for r in rules.categories.values() if r.channel == "discipline"), None)
    return found.level if found else None


def _triage_level(rules: Rules, suggestions: tuple[CategorySuggestion, ...]) -> str | None:
    """The highest level with authority over any of the suggested categories: its petition
    office can triage every one of them (a township office cannot triage a county matter)."""
    levels = [
        Level(rules.categories[s.category].level)
        for s in suggestions
        if rules.categories[s.category].level != "receiving"
    ]
    return min(levels, key=lambda lv: LEVEL_DEPTH[lv]).value if levels else None


@dataclass(frozen=True)
class _Named:
    rule: CategoryRule
    department: Department
    as_written: str
    rank: int  # 1 = the classifier's most probable category


def _named(
    tree: OrgTree,
    rules: Rules,
    place: OrgUnit,
    text: str,
    suggestions: tuple[CategorySuggestion, ...],
) -> list[_Named]:
    """谁主管谁负责 from the letter itself: for each suggested ordinary category the classifier
    gives at least the configured probability, the body the rules place it at, when the letter
    names that body. One entry per department (its highest-ranked category)."""
    out: dict[str, _Named] = {}
    floor = rules.placement.named_department_min_probability
    for rank, s in enumerate(suggestions, start=1):
        rule = rules.categories[s.category]
        if s.probability < floor or rule.channel != "ordinary" or rule.level == "receiving":
            continue
        dept = body_for(tree, rules, place, rule).department
        if dept is None or dept.code in out:
            continue
        written = named_in(tree, text, dept, rules.placement.government_suffixes)
        if written:
            out[dept.code] = _Named(rule, dept, written, rank)
    return list(out.values())


@dataclass(frozen=True)
class _What:
    rule: CategoryRule | None
    source: str  # registrar | classifier | named | none
    probability: float | None = None  # the classifier's, for its own choice
    legal_sign: str = ""  # why the legal channel, when the classifier's choice was moved there


def _what(p: PetitionReceived, rules: Rules, result: Result, text: str, sealed: bool) -> _What:
    """The category: the registrar's, else the classifier's; a category the classifier chose
    (or none) moves to the legal channel on its legal decision or a proceeding under way."""
    if rule := rules.category(p.category):
        return _What(rule, "registrar")
    probs = dict(result.ranked)
    rule = rules.categories.get(result.category) if result.category else None
    what = _What(rule, "classifier" if rule else "none", probs.get(rule.code) if rule else None)
    if sealed or (rule is not None and rule.channel != "ordinary"):
        return what
    sign = rules.proceedings.find(text)
    if (result.legal or sign) and (legal := _best_legal(rules, result)):
        why = f"来信述及“{sign}”" if sign else "自动识别为涉法涉诉"
        return _What(legal, "classifier", probs.get(legal.code), why)
    return what


@dataclass(frozen=True)
class _Where:
    department: Department | None  # None: a person triages it
    what: _What
    triage_unit: OrgUnit | None = None  # whose petition office triages it
    triage_why: str = ""
    note: str = ""  # how the body was found, when it needs saying


def _sealed_where(tree: OrgTree, rules: Rules, place: OrgUnit, what: _What) -> _Where:
    """A sealed item: a discipline body for an accusation category, else the petition office
    of the accusation rule's level (never a department or government of the accused's unit)."""
    rule = what.rule
    if rule is not None and rule.channel == "discipline":
        if dept := discipline_body(tree, place, rule):
            return _Where(dept, what)
        why = f"{level_unit(tree, place, rule.level).name}无纪检监察机关"
    else:
        why = "检举控告的问题类别不明" if rule is None else f"检举控告涉及{rule.name}"
    level = _accusation_level(rules, rule)
    return _Where(None, what, level_unit(tree, place, level) if level else place, why)


def _where(
    tree: OrgTree,
    rules: Rules,
    place: OrgUnit,
    receiving: OrgUnit,
    text: str,
    what: _What,
    suggestions: tuple[CategorySuggestion, ...],
) -> _Where:
    rule = what.rule
    if rule is None:  # the classifier abstained: the letter may name the competent body
        named = _named(tree, rules, place, text, suggestions)
        if len(named) == 1:
            n = named[0]
            return _Where(n.department, _What(n.rule, "named"), note=_named_reason(n))
        level = _triage_level(rules, suggestions)
        return _Where(None, what, level_unit(tree, place, level) if level else place, "类别待定")
    if rule.level == "receiving":
        return _Where(tree.petition_office(office_unit(tree, receiving.code).code), what)
    body = body_for(tree, rules, place, rule)
    if what.source == "classifier" and rule.channel == "ordinary":
        # the letter names the body of another suggestion, and not this one's
        named = _named(tree, rules, place, text, suggestions)
        codes = {n.department.code for n in named}
        if len(named) == 1 and (body.department is None or body.department.code not in codes):
            n = named[0]
            return _Where(n.department, _What(n.rule, "named"), note=_named_reason(n))
    if body.department is None:
        return _Where(None, what, body.unit, f"{body.unit.name}无{rule.name}主管部门")
    note = ""
    if body.how == "government":
        note = f"{body.unit.name}无{rule.name}主管部门，乡镇事项由其人民政府办理"
    return _Where(body.department, what, note=note)


def decide(p: PetitionReceived, *, tree: OrgTree, rules: Rules, model: Classifies) -> Decision:
    receiving = tree.unit(p.receiving_office_code)
    if receiving is None:
        raise LookupError(f"unknown receiving office {p.receiving_office_code}")
    territory, t_source = _territory(p, tree)
    place = territory or receiving
    text = f"{p.title or ''}\n{p.content}"
    result = model.classify(p.content, p.title or "")
    suggestions = suggestions_of(result, rules)
    registrar = rules.category(p.category)
    # the registrar's choice seals, never unseals; so does the classifier's doubt
    sealed = p.informant_sealed or result.accusation or bool(registrar and registrar.confidential)
    what = _what(p, rules, result, text, sealed)
    if what.rule is not None and what.rule.confidential:
        sealed = True
    if sealed:
        where = _sealed_where(tree, rules, place, what)
    else:
        where = _where(tree, rules, place, receiving, text, what, suggestions)
    what, rule = where.what, where.what.rule
    manual = where.department is None
    dept = where.department or triage_office(tree, where.triage_unit or place)
    resp_unit = tree.unit(dept.unit)
    assert resp_unit is not None

    hops = _chain(tree, rules, receiving, resp_unit, dept, local_date(p.received_at))
    skipped = resp_unit.depth - receiving.depth
    skip_level = p.channel == "visit" and skipped >= 2
    discipline = sealed and dept.kind is DepartmentKind.DISCIPLINE

    parts = [_category_reason(what, suggestions), f"属地：{place.name}"]
    if where.note:
        parts.append(where.note)
    if sealed and manual:
        parts.append(f"检举控告（检举人信息保密），{where.triage_why}，由{dept.name}人工分办")
    elif discipline:
        parts.append(f"检举控告，转{dept.name}办理（保密）")
    elif manual:
        parts.append(f"{where.triage_why}，由{dept.name}人工分办")
    elif rule and rule.channel == "legal":
        why = f"（{what.legal_sign}）" if what.legal_sign else ""
        parts.append(f"涉法涉诉{why}，诉访分离，导入{dept.name}依法处理")
    else:
        parts.append(f"按分级负责、归口办理由{dept.name}办理")
    if skip_level:
        parts.append(f"越级访（越{skipped}级）")

    return Decision(
        category=rule.code if rule else None,
        category_name=rule.name if rule else None,
        category_source=what.source,
        kind="检举控告" if sealed else (rule.kind if rule else None),
        channel="discipline"
        if discipline
        else (rule.channel if rule and not sealed else "ordinary"),
        confidential=sealed,
        territory_code=territory.code if territory else None,
        territory_source=t_source,
        responsible_unit=resp_unit.code,
        responsible_department=dept.code,
        responsible_name=dept.name,
        needs_manual_triage=manual,
        skip_level=skip_level,
        levels_skipped=max(skipped, 0),
        reason="；".join(parts)[:REASON_MAX],
        hops=hops,
        suggestions=suggestions if manual else (),
    )


def _category_reason(what: _What, suggestions: tuple[CategorySuggestion, ...]) -> str:
    rule = what.rule
    if rule is None:
        shown = "、".join(f"{s.name}（{s.probability:.2f}）" for s in suggestions)
        return f"自动识别未能确定问题类别，可能为：{shown}" if shown else "未能确定问题类别"
    if what.source == "registrar":
        return f"问题类别：{rule.name}（登记员选定）"
    if what.source == "named":
        return f"问题类别：{rule.name}（来信点名主管部门）"
    prob = f"，概率{what.probability:.2f}" if what.probability is not None else ""
    return f"问题类别：{rule.name}（自动识别{prob}）"


def _named_reason(n: _Named) -> str:
    return (
        f"来信点名“{n.as_written}”，{n.department.name}主管{n.rule.name}"
        f"（自动识别候选第{n.rank}位），谁主管谁负责"
    )


def _chain(
    tree: OrgTree, rules: Rules, receiving: OrgUnit, resp_unit: OrgUnit, dept: Department, day: date
) -> list[Hop]:
    start = tree.petition_office(office_unit(tree, receiving.code).code)
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
