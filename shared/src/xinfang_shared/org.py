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

from xinfang_shared.text import text_problem


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


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a tree: where (``units[3].parent``) and why, Chinese first."""

    path: str
    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.path}: {self.zh} / {self.en}"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.zh, "message_en": self.en}


class OrgTreeError(ValueError):
    """The file is not a valid org tree. ``details`` lists every problem found (not only the
    first); ``problems`` the same as text ("path: 中文 / English")."""

    def __init__(self, problems: list[Problem]) -> None:
        self.details = problems
        self.problems = [str(p) for p in problems]
        super().__init__("; ".join(self.problems))


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


# Limits of what a tree may hold: every stored field fits its column (routing's hops and cases
# tables, the events), and a file is parsed whole in memory.
MAX_TREE_BYTES = 2_000_000
VERSION_MAX = 60
UNIT_NAME_MAX = 60  # "<name>信访局" is stored as a hop's unit name (100)
DEPARTMENT_CODE_MAX = 20  # a hop's unit code column
DEPARTMENT_NAME_MAX = 100
ALIAS_MAX = 60
COMPETENCE_MAX = 40  # a case's category column


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader refusing anchors and aliases: a tree has no use for them, and a few
    hundred bytes of nested aliases expand to billions of nodes (a "billion laughs" bomb)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases are not allowed", event.start_mark
            )
        return super().compose_node(parent, index)


class _Checker:
    """Collects every problem of a document while building the tree."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, zh: str, en: str) -> None:
        self.problems.append(Problem(path, zh, en))

    def readable(self, path: str, value: str) -> bool:
        """No control, bidi or only-invisible characters (they cannot be stored, or make a
        name read differently from what it is); reported otherwise."""
        if (problem := text_problem(value)) is not None:
            self.add(path, problem[1], problem[2])
            return False
        return True

    def code(self, raw: dict[str, Any], key: str, where: str, *, required: bool) -> str | None:
        """A code: a string, or digits YAML read as a number."""
        value = raw.get(key)
        if value is None or value == "":
            if required:
                self.add(f"{where}.{key}", "缺少代码", "missing code")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            self.add(f"{where}.{key}", "代码应为文字", "a code must be a string")
            return None
        code = str(value)
        if not self.readable(f"{where}.{key}", code):
            return None
        if not code.isprintable() or any(ch.isspace() for ch in code):
            self.add(
                f"{where}.{key}",
                "代码不能含空白或不可见字符",
                "a code must not contain whitespace or invisible characters",
            )
            return None
        return code

    def text(
        self, raw: dict[str, Any], key: str, where: str, *, limit: int, default: str = ""
    ) -> str | None:
        value = raw.get(key, default)
        if not isinstance(value, str):
            self.add(f"{where}.{key}", "应为文字", "must be a string")
            return None
        if not self.readable(f"{where}.{key}", value):
            return None
        value = value.strip()
        if not value:
            self.add(f"{where}.{key}", "缺少名称", "missing name")
            return None
        if len(value) > limit:
            self.add(
                f"{where}.{key}", f"长度超过 {limit} 个字符", f"longer than {limit} characters"
            )
            return None
        return value

    def strings(self, raw: dict[str, Any], key: str, where: str, *, limit: int) -> list[str] | None:
        """A list of non-empty strings ([] when absent); None (reported) when malformed."""
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.add(f"{where}.{key}", "应为文字列表", "must be a list of strings")
            return None
        if not all(self.readable(f"{where}.{key}", v) for v in value):
            return None
        if any(len(v) > limit for v in value):
            self.add(
                f"{where}.{key}",
                f"有一项长度超过 {limit} 个字符",
                f"an entry is longer than {limit} characters",
            )
            return None
        return list(value)

    def items(
        self, doc: dict[str, Any], key: str, zh: str, en: str
    ) -> list[tuple[str, dict[str, Any]]]:
        value = doc.get(key)
        if not value:
            self.add(key, f"没有任何{zh}", f"no {en}")
            return []
        if not isinstance(value, list):
            self.add(key, "应为列表", "must be a list")
            return []
        out = []
        for i, raw in enumerate(value):
            if isinstance(raw, dict):
                out.append((f"{key}[{i}]", raw))
            else:
                self.add(f"{key}[{i}]", "格式错误，应为对象", "not a mapping")
        return out


def _units(c: _Checker, doc: dict[str, Any]) -> dict[str, OrgUnit]:
    units: dict[str, OrgUnit] = {}
    for where, raw in c.items(doc, "units", "单位", "units"):
        code = c.code(raw, "code", where, required=True)
        name = c.text(raw, "name", where, limit=UNIT_NAME_MAX)
        aliases = c.strings(raw, "aliases", where, limit=ALIAS_MAX)
        parent = c.code(raw, "parent", where, required=False)
        level_raw = raw.get("level")
        level = Level(level_raw) if level_raw in tuple(Level) else None
        if level is None:
            c.add(f"{where}.level", f"层级无效：{level_raw}", f"unknown level {level_raw!r}")
        if code is None or name is None or level is None:
            continue
        if not code.isdigit() or len(code) != CODE_LENGTH[level]:
            c.add(f"{where}.code", f"代码 {code} 与层级不符", f"code {code!r} does not fit {level}")
        elif code in units:
            c.add(f"{where}.code", f"单位代码重复：{code}", f"duplicate unit code {code}")
        else:
            units[code] = OrgUnit(code, name, level, parent, tuple(aliases or ()))
    return units


def _check_parents(c: _Checker, doc: dict[str, Any], units: dict[str, OrgUnit]) -> set[str]:
    """Report units whose parent is missing or not above them; their codes (left out of the
    partial tree the other checks run on, so that it has no cycle)."""
    index = {str(raw.get("code")): where for where, raw in _listed(doc, "units")}
    bad = set()
    for u in units.values():
        if u.parent is None:
            continue
        where = f"{index.get(u.code, 'units')}.parent"
        p = units.get(u.parent)
        if p is None:
            c.add(where, f"上级单位 {u.parent} 不存在", f"unknown parent unit {u.parent}")
            bad.add(u.code)
        elif p.depth >= u.depth:
            c.add(where, f"上级 {p.code} 层级不高于 {u.code}", f"parent {p.code} is not above")
            bad.add(u.code)
    roots = [u for u in units.values() if u.parent is None]
    if units and len(roots) != 1:
        c.add(
            "units",
            f"应恰有一个根单位，现有 {len(roots)} 个",
            f"expected exactly one root unit, found {len(roots)}",
        )
    return bad


def _listed(doc: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    value = doc.get(key)
    if not isinstance(value, list):
        return []
    return [(f"{key}[{i}]", raw) for i, raw in enumerate(value) if isinstance(raw, dict)]


def _departments(
    c: _Checker, doc: dict[str, Any], units: dict[str, OrgUnit], unit_codes: set[str]
) -> dict[str, Department]:
    departments: dict[str, Department] = {}
    for where, raw in c.items(doc, "departments", "部门", "departments"):
        code = c.code(raw, "code", where, required=True)
        unit = c.code(raw, "unit", where, required=True)
        comps = c.strings(raw, "competences", where, limit=COMPETENCE_MAX)
        kind_raw = raw.get("kind", DepartmentKind.DEPARTMENT.value)
        kind = DepartmentKind(kind_raw) if kind_raw in tuple(DepartmentKind) else None
        if kind is None:
            c.add(f"{where}.kind", f"部门类型无效：{kind_raw}", f"unknown kind {kind_raw!r}")
        name = c.text(raw, "name", where, limit=DEPARTMENT_NAME_MAX, default=code or "")
        if code is not None and len(code) > DEPARTMENT_CODE_MAX:
            c.add(
                f"{where}.code",
                f"代码长度超过 {DEPARTMENT_CODE_MAX} 个字符",
                f"code longer than {DEPARTMENT_CODE_MAX} characters",
            )
            code = None
        if code is not None and (code in departments or code in unit_codes):
            c.add(f"{where}.code", f"部门代码重复：{code}", f"duplicate department code {code}")
            code = None
        if unit is not None and unit not in units:
            if unit not in unit_codes:  # an invalid unit is reported where it is listed
                c.add(f"{where}.unit", f"所属单位 {unit} 不存在", f"unknown unit {unit}")
            unit = None
        if comps == []:
            c.add(f"{where}.competences", "未配置职责范围", "no competences")
        if code and unit and name and kind and comps:
            departments[code] = Department(code, unit, name, kind, frozenset(comps))
    return departments


def _check_scopes(
    c: _Checker, tree: OrgTree, listed: set[str], scope: str | None, lower: tuple[str, ...]
) -> None:
    """The deployment's own unit, with a petition office at or above it (every petition
    received there starts at one), and its lower deployments' units, under it. A unit that is
    listed but invalid has been reported where it is listed."""
    if scope is None:
        return
    if scope not in listed:
        c.add(
            "units", f"本级辖区单位 {scope} 不在树中", f"the deployment's unit {scope} is missing"
        )
    elif tree.unit(scope) and not any(tree.petition_office(u.code) for u in tree.ancestors(scope)):
        c.add(
            "departments",
            f"本级辖区单位 {scope} 及其上级均无信访工作机构（petition_office）",
            f"no petition office at or above the deployment's unit {scope}",
        )
    for code in lower:
        if code not in listed:
            c.add("units", f"下级部署单位 {code} 不在树中", f"lower deployment unit {code} missing")
        elif tree.unit(scope) and tree.unit(code) and not _strictly_below(tree, code, scope):
            c.add(
                "units",
                f"下级部署单位 {code} 不在本级 {scope} 之下",
                f"lower deployment unit {code} is not below {scope}",
            )


def _strictly_below(tree: OrgTree, code: str, scope: str) -> bool:
    return code != scope and tree.is_ancestor(scope, code)


def parse(doc: Any, *, scope: str | None = None, lower: tuple[str, ...] = ()) -> OrgTree:
    """Validate a parsed YAML/JSON document and build the tree, or raise :class:`OrgTreeError`
    listing every problem. ``scope``/``lower``: the deployment's units, which must be in it."""
    if not isinstance(doc, dict):
        raise OrgTreeError(
            [Problem("$", "文件应为对象，含 units 与 departments", "expected a mapping")]
        )
    c = _Checker()
    version = doc.get("version", "unversioned")
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        c.add("version", "版本应为文字", "version must be a string")
    elif c.readable("version", str(version)) and len(str(version)) > VERSION_MAX:
        c.add("version", f"长度超过 {VERSION_MAX} 个字符", f"longer than {VERSION_MAX} characters")
    units = _units(c, doc)
    for code in _check_parents(c, doc, units):
        del units[code]
    listed = {str(raw.get("code")) for _, raw in _listed(doc, "units")}
    departments = _departments(c, doc, units, listed)
    tree = OrgTree(version=str(version), units=units, departments=departments)
    _check_scopes(c, tree, listed, scope, lower)
    if c.problems:
        raise OrgTreeError(c.problems)
    return tree


def loads(text: str, *, scope: str | None = None, lower: tuple[str, ...] = ()) -> OrgTree:
    """Parse and validate a tree (YAML, no anchors or aliases, at most ``MAX_TREE_BYTES``).
    CPU-bound for a large tree: call it off the event loop (``asyncio.to_thread``)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_TREE_BYTES:
        raise OrgTreeError(
            [
                Problem(
                    "$",
                    f"文件过大（上限 {MAX_TREE_BYTES // 1000} KB）",
                    f"the file is too large (limit {MAX_TREE_BYTES // 1000} kB)",
                )
            ]
        )
    try:
        doc = yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except yaml.composer.ComposerError as exc:
        raise OrgTreeError(
            [Problem("$", f"不允许使用 YAML 锚点或别名：{exc}", f"YAML anchors/aliases: {exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise OrgTreeError(
            [Problem("$", f"YAML 格式错误：{exc}", f"invalid YAML: {exc}")]
        ) from None
    return parse(doc, scope=scope, lower=lower)


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
