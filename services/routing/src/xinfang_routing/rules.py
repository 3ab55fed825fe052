"""The routing rule table (rules.yaml): categories, the level and department competence with
authority for each, the legal and discipline channels, the transfer days per level, and the
general placement data (how a unit's government is named in a tree, the signals of a matter
already in administrative review, litigation or arbitration)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from xinfang_shared.org import Level


class RulesError(ValueError):
    pass


@dataclass(frozen=True)
class CategoryRule:
    code: str
    name: str
    kind: str  # 申诉求决 | 建议意见 | 检举控告
    competence: str
    level: str  # township | county | city | receiving
    channel: str  # ordinary | legal | discipline
    confidential: bool


# A proceeding only threatened, planned or advised is not one under way: the negation must sit
# in the same clause, at most this many characters before the signal.
NEGATION_GAP = 4
_CLAUSE = "[^，。；！？,;!?\\n]"


@dataclass(frozen=True)
class Proceedings:
    """诉访分离 by its signals (rules.yaml `legal_proceedings`): words that show the matter is
    already in administrative review, litigation or arbitration, unless a negation just before
    says it is only threatened or advised."""

    signals: re.Pattern[str] | None = None
    negation: re.Pattern[str] | None = None

    def find(self, text: str) -> str | None:
        """The first signal of a proceeding under way in ``text`` (None when there is none)."""
        if self.signals is None:
            return None
        for m in self.signals.finditer(text):
            before = text[max(0, m.start() - 8) : m.start()]
            if self.negation is None or not self.negation.search(before):
                return m.group()
        return None


@dataclass(frozen=True)
class Placement:
    """General placement data (rules.yaml `placement`)."""

    # a unit's own government in a tree: a department named <unit name or alias><suffix>
    government_suffixes: tuple[str, ...] = ("人民政府", "政府", "办事处")
    suggestions: int = 3  # how many ranked categories a person triaging is shown
    named_department_min_probability: float = 0.1


@dataclass(frozen=True)
class Rules:
    version: str
    categories: dict[str, CategoryRule]
    transfer_days: dict[str, int]
    objection_working_days: int
    placement: Placement = field(default_factory=Placement)
    proceedings: Proceedings = field(default_factory=Proceedings)

    def category(self, code_or_label: str | None) -> CategoryRule | None:
        if not code_or_label:
            return None
        key = code_or_label.strip()
        if key in self.categories:
            return self.categories[key]
        for rule in self.categories.values():
            if rule.name == key:
                return rule
        return None

    def transfer_days_from(self, level: Level) -> int:
        return self.transfer_days.get(level.value, self.transfer_days.get("county", 4))


_LEVELS = {"township", "county", "city", "receiving"}
_CHANNELS = {"ordinary", "legal", "discipline"}
_KINDS = {"申诉求决", "建议意见", "检举控告"}


def parse(doc: Any) -> Rules:
    if not isinstance(doc, dict) or not isinstance(doc.get("categories"), dict):
        raise RulesError("rules: expected a mapping with categories")
    cats: dict[str, CategoryRule] = {}
    for code, raw in doc["categories"].items():
        if raw.get("level") not in _LEVELS:
            raise RulesError(f"category {code}: level must be one of {sorted(_LEVELS)}")
        if raw.get("channel", "ordinary") not in _CHANNELS:
            raise RulesError(f"category {code}: channel must be one of {sorted(_CHANNELS)}")
        if raw.get("kind") not in _KINDS:
            raise RulesError(f"category {code}: kind must be one of {sorted(_KINDS)}")
        if not raw.get("competence") or not raw.get("name"):
            raise RulesError(f"category {code}: needs name and competence")
        cats[str(code)] = CategoryRule(
            code=str(code),
            name=str(raw["name"]),
            kind=str(raw["kind"]),
            competence=str(raw["competence"]),
            level=str(raw["level"]),
            channel=str(raw.get("channel", "ordinary")),
            confidential=bool(raw.get("confidential", False)),
        )
    days = {str(k): int(v) for k, v in (doc.get("transfer_days") or {}).items()}
    return Rules(
        version=str(doc.get("version", "unversioned")),
        categories=cats,
        transfer_days=days,
        objection_working_days=int(doc.get("objection_working_days", 5)),
        placement=_placement(doc.get("placement") or {}),
        proceedings=_proceedings(doc.get("legal_proceedings") or {}),
    )


def _placement(raw: Any) -> Placement:
    if not isinstance(raw, dict):
        raise RulesError("placement: expected a mapping")
    default = Placement()
    suffixes = tuple(str(s) for s in raw.get("government_suffixes", default.government_suffixes))
    if not all(suffixes):
        raise RulesError("placement.government_suffixes: empty suffix")
    shown = int(raw.get("suggestions", default.suggestions))
    floor = float(
        raw.get("named_department_min_probability", default.named_department_min_probability)
    )
    if shown < 1 or not 0 <= floor <= 1:
        raise RulesError("placement: suggestions >= 1, named_department_min_probability in [0, 1]")
    return Placement(suffixes, shown, floor)


def _alternatives(raw: Any, key: str) -> str | None:
    values = raw.get(key) or []
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise RulesError(f"legal_proceedings.{key}: expected a list of patterns")
    if not values:
        return None
    try:
        for v in values:
            re.compile(v)
    except re.error as exc:
        raise RulesError(f"legal_proceedings.{key}: {exc}") from None
    return "|".join(f"(?:{v})" for v in values)


def _proceedings(raw: Any) -> Proceedings:
    if not isinstance(raw, dict):
        raise RulesError("legal_proceedings: expected a mapping")
    signals = _alternatives(raw, "signals")
    negation = _alternatives(raw, "not_after")
    return Proceedings(
        signals=re.compile(signals) if signals else None,
        negation=re.compile(f"(?:{negation}){_CLAUSE}{{0,{NEGATION_GAP}}}$") if negation else None,
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    text = (
        resources.files("xinfang_routing").joinpath("data/rules.yaml").read_text(encoding="utf-8")
    )
    return parse(yaml.safe_load(text))
