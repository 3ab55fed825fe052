"""The org tree: administrative units (city → county/district → township/street → village/
community) with national division codes, and the departments attached to each unit with the
subject areas (competences) they handle. It is data, loaded from YAML and validated as a whole:
any problem (unknown parent, duplicate code, a department with no competences…) rejects the
file and nothing is half-loaded.

The demo tree ships in ``xinfang_shared/data/org_tree.yaml``; ``XF_ORG_TREE_FILE`` points a
deployment at its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


LEVEL_DEPTH = {
    Level.PROVINCE: 0,
    Level.CITY: 1,
    Level.COUNTY: 2,
    Level.TOWNSHIP: 3,
    Level.VILLAGE: 4,
}
LEVEL_LABELS = {
    Level.PROVINCE: "省",
    Level.CITY: "市",
    Level.COUNTY: "县（区）",
    Level.TOWNSHIP: "乡镇（街道）",
    Level.VILLAGE: "村（社区）",
}
CODE_LENGTH = {
    Level.PROVINCE: 6,
    Level.CITY: 6,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}


class DepartmentKind(StrEnum):
    PETITION_OFFICE = "petition_office"
    DEPARTMENT = "department"
    COURT = "court"
    DISCIPLINE = "discipline"


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    level: Level
    parent: str | None
    aliases: tuple[str, ...] = ()

    @property
    def petition_office_name(self) -> str:
        """The unit's petition office: 信访局 at city/county level, 信访办 below."""
        if self.level in (Level.PROVINCE, Level.CITY, Level.COUNTY):
            return f"{self.name}信访局"
        return f"{self.name}信访办"

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]


@dataclass(frozen=True)
class Department:
    code: str
    unit: str
    name: str
    kind: DepartmentKind
    competences: frozenset[str]


class OrgTreeError(ValueError):
    """The file is not a valid org tree; ``problems`` lists every reason (Chinese first)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class OrgTree:
    version: str
    units: dict[str, OrgUnit]
    departments: dict[str, Department]
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _by_unit: dict[str, list[Department]] = field(default_factory=dict, repr=False)
    _names: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for u in self.units.values():
            if u.parent:
                self._children.setdefault(u.parent, []).append(u.code)
        for d in self.departments.values():
            self._by_unit.setdefault(d.unit, []).append(d)
        names = [(n, u.code) for u in self.units.values() for n in (u.name, *u.aliases)]
        self._names = sorted(names, key=lambda p: -len(p[0]))  # longest name first

    def unit(self, code: str) -> OrgUnit | None:
        return self.units.get(code)

    def department(self, code: str) -> Department | None:
        return self.departments.get(code)

    def ancestors(self, code: str) -> Iterator[OrgUnit]:
        """The unit itself, then its parent, … up to the root."""
        u = self.units.get(code)
        while u is not None:
            yield u
            u = self.units.get(u.parent) if u.parent else None

    def is_ancestor(self, ancestor: str, code: str) -> bool:
        return any(u.code == ancestor for u in self.ancestors(code))

    def at_level(self, code: str, level: Level) -> OrgUnit | None:
        """The ancestor-or-self of ``code`` at ``level``; None if ``code`` is above it."""
        for u in self.ancestors(code):
            if u.level == level:
                return u
        return None

    def departments_of(self, unit: str) -> list[Department]:
        return self._by_unit.get(unit, [])

    def petition_office(self, unit: str) -> Department | None:
        for d in self.departments_of(unit):
            if d.kind is DepartmentKind.PETITION_OFFICE:
                return d
        return None

    def competent(self, unit: str, competence: str) -> Department | None:
        for d in self.departments_of(unit):
            if competence in d.competences:
                return d
        return None

    def find_place(self, text: str) -> OrgUnit | None:
        """The deepest unit named in ``text`` (e.g. an address), preferring a name that sits
        under another name found in the same text (清河县柳塘乡 → 柳塘乡 of 清河县)."""
        found = [code for name, code in self._names if name in text]
        if not found:
            return None
        units = [self.units[c] for c in dict.fromkeys(found)]
        units.sort(key=lambda u: -u.depth)
        named = {u.code for u in units}
        for u in units:
            chain = {a.code for a in self.ancestors(u.code)}
            others = named - {u.code}
            if not others or others & chain:
                return u
        return units[0]


def _problem(zh: str, en: str) -> str:
    return f"{zh} / {en}"


def parse(doc: Any) -> OrgTree:
    """Validate a parsed YAML/JSON document and build the tree, or raise :class:`OrgTreeError`."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise OrgTreeError(
            [
                _problem(
                    "文件应为对象，含 units 与 departments",
                    "expected a mapping with units and departments",
                )
            ]
        )
    units: dict[str, OrgUnit] = {}
    for i, raw in enumerate(doc.get("units") or []):
        where = f"units[{i}]"
        if not isinstance(raw, dict):
            problems.append(_problem(f"{where} 格式错误", f"{where} is not a mapping"))
            continue
        code, name = str(raw.get("code", "")), str(raw.get("name", "")).strip()
        try:
            level = Level(str(raw.get("level")))
        except ValueError:
            problems.append(
                _problem(
                    f"{where} 层级无效：{raw.get('level')}",
                    f"{where} unknown level {raw.get('level')!r}",
                )
            )
            continue
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            problems.append(
                _problem(
                    f"{where} 代码 {code} 与层级不符",
                    f"{where} code {code!r} does not fit level {level}",
                )
            )
            continue
        if not name:
            problems.append(_problem(f"{where} 缺少名称", f"{where} has no name"))
        if code in units:
            problems.append(_problem(f"单位代码重复：{code}", f"duplicate unit code {code}"))
            continue
        parent = raw.get("parent")
        aliases = tuple(str(a) for a in raw.get("aliases") or ())
        units[code] = OrgUnit(code, name, level, str(parent) if parent else None, aliases)
    for u in units.values():
        if u.parent is None:
            continue
        p = units.get(u.parent)
        if p is None:
            problems.append(
                _problem(
                    f"{u.code} 的上级单位 {u.parent} 不存在",
                    f"unknown parent {u.parent} of {u.code}",
                )
            )
        elif p.depth >= u.depth:
            problems.append(
                _problem(
                    f"{u.code} 的上级 {p.code} 层级不高于它",
                    f"parent {p.code} is not above {u.code}",
                )
            )
    roots = [u for u in units.values() if u.parent is None]
    if units and len(roots) != 1:
        problems.append(
            _problem(
                f"应恰有一个根单位，现有 {len(roots)} 个",
                f"expected exactly one root unit, found {len(roots)}",
            )
        )
    departments: dict[str, Department] = {}
    for i, raw in enumerate(doc.get("departments") or []):
        where = f"departments[{i}]"
        if not isinstance(raw, dict):
            problems.append(_problem(f"{where} 格式错误", f"{where} is not a mapping"))
            continue
        code, unit = str(raw.get("code", "")), str(raw.get("unit", ""))
        comps = frozenset(str(c) for c in raw.get("competences") or ())
        if not code:
            problems.append(_problem(f"{where} 缺少代码", f"{where} has no code"))
            continue
        if code in departments or code in units:
            problems.append(_problem(f"部门代码重复：{code}", f"duplicate department code {code}"))
            continue
        if unit not in units:
            problems.append(
                _problem(
                    f"部门 {code} 所属单位 {unit} 不存在", f"department {code}: unknown unit {unit}"
                )
            )
        if not comps:
            problems.append(
                _problem(f"部门 {code} 未配置职责范围", f"department {code} has no competences")
            )
        try:
            kind = DepartmentKind(raw.get("kind", "department"))
        except ValueError:
            problems.append(
                _problem(
                    f"部门 {code} 类型无效", f"department {code}: unknown kind {raw.get('kind')!r}"
                )
            )
            continue
        departments[code] = Department(code, unit, str(raw.get("name", code)), kind, comps)
    if not units:
        problems.append(_problem("没有任何单位", "no units"))
    if problems:
        raise OrgTreeError(problems)
    return OrgTree(
        version=str(doc.get("version", "unversioned")), units=units, departments=departments
    )


def loads(text: str) -> OrgTree:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OrgTreeError([_problem(f"YAML 格式错误：{exc}", f"invalid YAML: {exc}")]) from None
    return parse(doc)


def load_file(path: Path) -> OrgTree:
    return loads(path.read_text(encoding="utf-8"))


def default_tree_text() -> str:
    override = os.environ.get("XF_ORG_TREE_FILE")
    if override:
        return Path(override).read_text(encoding="utf-8")
    return (
        resources.files("xinfang_shared").joinpath("data/org_tree.yaml").read_text(encoding="utf-8")
    )


@lru_cache(maxsize=1)
def default_tree() -> OrgTree:
    """The deployment's org tree (loaded on first use, never at import)."""
    return loads(default_tree_text())


def get_unit(code: str) -> OrgUnit | None:
    return default_tree().unit(code)
