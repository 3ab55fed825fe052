"""Who receives what, kept as data: people (with their unit, roles, addresses, channels and
subscriptions) and group robots (企业微信 / 钉钉) per unit.

A message is addressed to an abstract recipient, as composed in ``messages.py``:
- ``<unit or department code>``: everyone listed at that unit or department;
- ``<unit code>:leaders``: the unit's leadership (role ``leader``);
- ``leader:<name or id>``: one named person (the 包案领导 of a case).
Group robots of the recipient's unit get the levels they ask for. People with a subscription
get the levels they ask for anywhere in their subtree.

``acknowledge`` says which account roles sign for (签收) the alerts of a unit: ``roles`` for
every unit, and ``units`` for a unit (and the units below it) that signs differently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from xinfang_shared import org
from xinfang_shared.auth.models import PERSON_ROLES, Role
from xinfang_shared.auth.scope import org_name

PERSON_CHANNELS = ("inbox", "email", "sms")
ROBOT_KINDS = ("wecom", "dingtalk")
LEVELS = ("info", "yellow", "red", "urgent")
DEFAULT_FILE = Path(__file__).with_name("data") / "directory.yaml"
ACCOUNT_ROLES = frozenset(r.value for r in PERSON_ROLES)
DEFAULT_ACK_ROLES = frozenset({Role.LEADER.value, Role.SUPERVISOR.value})


class DirectoryError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    unit: str
    roles: frozenset[str]
    channels: tuple[str, ...]
    email: str | None = None
    phone: str | None = None
    locale: str = "zh-CN"
    subtree: str | None = None  # subscription: everything at these levels in this subtree
    levels: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Robot:
    id: str
    unit: str
    kind: str  # wecom | dingtalk
    url: str
    secret: str | None
    levels: frozenset[str]


def unit_of(code: str) -> str:
    """The org unit of a recipient code: ``339922-zrzy`` → ``339922``, ``339922:leaders`` →
    ``339922``."""
    return code.split(":", 1)[0].split("-", 1)[0]


@dataclass
class Directory:
    people: list[Person] = field(default_factory=list)
    robots: list[Robot] = field(default_factory=list)
    ack_roles: frozenset[str] = DEFAULT_ACK_ROLES
    ack_roles_by_unit: dict[str, frozenset[str]] = field(default_factory=dict)

    def signs_for(self, role: str, unit_code: str, tree: org.OrgTree) -> bool:
        """May an account of ``role`` acknowledge an alert awaiting ``unit_code``? The nearest
        unit (itself, then up the tree) with roles of its own decides, else ``ack_roles``."""
        for unit in tree.ancestors(unit_of(unit_code)):
            if unit.code in self.ack_roles_by_unit:
                return role in self.ack_roles_by_unit[unit.code]
        return role in self.ack_roles

    def recipient_name(self, recipient: str, tree: org.OrgTree) -> str:
        """What a person reads for a recipient: 清河县领导, 清河县信访局, 包案领导 王县长."""
        if recipient.startswith("leader:"):
            who = recipient.split(":", 1)[1]
            p = next((p for p in self.people if who in (p.id, p.name)), None)
            return f"包案领导 {p.name if p else who}"
        if recipient == "petitioner":
            return "信访人"
        code, _, role = recipient.partition(":")
        name = org_name(tree, code) or code
        return f"{name}领导" if role == "leaders" else name

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def resolve(
        self, recipient: str, level: str, tree: org.OrgTree
    ) -> tuple[list[Person], list[Robot]]:
        if recipient.startswith("leader:"):
            who = recipient.split(":", 1)[1]
            return [p for p in self.people if who in (p.id, p.name)], []
        if recipient.endswith(":leaders"):
            code = recipient.rsplit(":", 1)[0]
            people = [p for p in self.people if p.unit == code and "leader" in p.roles]
        else:
            code = recipient
            people = [p for p in self.people if p.unit == code]
        robots = [r for r in self.robots if r.unit == code and level in r.levels]
        unit = unit_of(code)
        seen = {p.id for p in people}
        for p in self.people:
            if (
                p.subtree
                and level in p.levels
                and p.id not in seen
                and (p.subtree == unit or tree.is_ancestor(p.subtree, unit))
            ):
                people.append(p)
                seen.add(p.id)
        return people, robots

    def unit_of_recipient(self, recipient: str) -> str | None:
        if recipient.startswith("leader:"):
            who = recipient.split(":", 1)[1]
            p = next((p for p in self.people if who in (p.id, p.name)), None)
            return p.unit if p else None
        return recipient.split(":", 1)[0]


def parse(doc: Any, tree: org.OrgTree) -> Directory:
    problems: list[str] = []
    if not isinstance(doc, dict):
        raise DirectoryError(["通讯录应为 YAML 映射 / the directory must be a YAML mapping"])

    def known(code: str) -> bool:
        return tree.unit(code) is not None or tree.department(code) is not None

    people: list[Person] = []
    ids: set[str] = set()
    for i, raw in enumerate(doc.get("people") or []):
        where = f"people[{i}]"
        try:
            pid, name, unit = str(raw["id"]), str(raw["name"]), str(raw["unit"])
        except (KeyError, TypeError):
            problems.append(f"{where}: 缺少 id/name/unit / id, name and unit are required")
            continue
        if pid in ids:
            problems.append(f"{where}: 重复的 id {pid} / duplicate id")
        ids.add(pid)
        if not known(unit):
            problems.append(f"{where}: 未知单位 {unit} / unknown unit")
        channels = tuple(raw.get("channels") or ["inbox"])
        for ch in channels:
            if ch not in PERSON_CHANNELS:
                problems.append(f"{where}: 未知渠道 {ch} / unknown channel")
        if "email" in channels and not raw.get("email"):
            problems.append(f"{where}: 选择了邮件但无邮箱 / e-mail channel without an address")
        if "sms" in channels and not raw.get("phone"):
            problems.append(f"{where}: 选择了短信但无手机号 / sms channel without a phone")
        sub = raw.get("subscribe") or {}
        subtree = str(sub["subtree"]) if sub.get("subtree") else None
        if subtree and tree.unit(subtree) is None:
            problems.append(f"{where}: 订阅范围 {subtree} 不存在 / unknown subscription subtree")
        levels = frozenset(sub.get("levels") or [])
        if bad := levels - set(LEVELS):
            problems.append(f"{where}: 未知级别 {sorted(bad)} / unknown levels")
        people.append(
            Person(
                id=pid,
                name=name,
                unit=unit,
                roles=frozenset(raw.get("roles") or ["staff"]),
                channels=channels,
                email=raw.get("email"),
                phone=str(raw["phone"]) if raw.get("phone") else None,
                locale=str(raw.get("locale") or "zh-CN"),
                subtree=subtree,
                levels=levels,
            )
        )
    robots: list[Robot] = []
    for i, raw in enumerate(doc.get("robots") or []):
        where = f"robots[{i}]"
        try:
            unit, kind, url = str(raw["unit"]), str(raw["kind"]), str(raw["url"])
        except (KeyError, TypeError):
            problems.append(f"{where}: 缺少 unit/kind/url / unit, kind and url are required")
            continue
        if kind not in ROBOT_KINDS:
            problems.append(f"{where}: 未知机器人类型 {kind} / kind must be wecom or dingtalk")
        if not known(unit):
            problems.append(f"{where}: 未知单位 {unit} / unknown unit")
        if not url.startswith(("http://", "https://")):
            problems.append(f"{where}: 地址须为 http(s) URL / url must be http(s)")
        levels = frozenset(raw.get("levels") or ["urgent", "red"])
        if bad := levels - set(LEVELS):
            problems.append(f"{where}: 未知级别 {sorted(bad)} / unknown levels")
        robots.append(
            Robot(
                id=str(raw.get("id") or f"{unit}-{kind}-{i}"),
                unit=unit,
                kind=kind,
                url=url,
                secret=raw.get("secret"),
                levels=levels,
            )
        )
    ack_roles, ack_by_unit = _acknowledgers(doc.get("acknowledge"), tree, problems)
    if problems:
        raise DirectoryError(problems)
    return Directory(
        people=people, robots=robots, ack_roles=ack_roles, ack_roles_by_unit=ack_by_unit
    )


def _acknowledgers(
    raw: Any, tree: org.OrgTree, problems: list[str]
) -> tuple[frozenset[str], dict[str, frozenset[str]]]:
    if raw is None:
        return DEFAULT_ACK_ROLES, {}
    if not isinstance(raw, dict):
        problems.append("acknowledge: 应为映射 / must be a mapping of roles and units")
        return DEFAULT_ACK_ROLES, {}

    def roles(value: Any, where: str) -> frozenset[str]:
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            problems.append(f"{where}: 应为角色列表 / must be a list of roles")
            return frozenset()
        if bad := set(value) - ACCOUNT_ROLES:
            problems.append(f"{where}: 未知角色 {sorted(bad)} / unknown roles")
        return frozenset(value)

    default = roles(raw.get("roles", sorted(DEFAULT_ACK_ROLES)), "acknowledge.roles")
    units = raw.get("units") or {}
    if not isinstance(units, dict):
        problems.append("acknowledge.units: 应为映射 / must map unit codes to roles")
        return default, {}
    by_unit: dict[str, frozenset[str]] = {}
    for code, value in units.items():
        if tree.unit(str(code)) is None:
            problems.append(f"acknowledge.units: 未知单位 {code} / unknown unit")
        by_unit[str(code)] = roles(value, f"acknowledge.units.{code}")
    return default, by_unit


def load(path: Path | None, tree: org.OrgTree) -> Directory:
    text = (path or DEFAULT_FILE).read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DirectoryError([f"YAML 格式错误 / invalid YAML: {exc}"]) from exc
    return parse(doc, tree)
