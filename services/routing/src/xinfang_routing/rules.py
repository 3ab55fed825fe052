"""The routing rule table (rules.yaml): categories, the level and department competence with
authority for each, the legal and discipline channels, and the transfer days per level."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Rules:
    version: str
    categories: dict[str, CategoryRule]
    transfer_days: dict[str, int]
    objection_working_days: int

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
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    text = (
        resources.files("xinfang_routing").joinpath("data/rules.yaml").read_text(encoding="utf-8")
    )
    return parse(yaml.safe_load(text))
