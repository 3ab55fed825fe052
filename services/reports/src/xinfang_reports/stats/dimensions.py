"""The breakdowns' dimensions: what SQL groups by (the raw codes), and how a group's raw values
roll up to a row's key and are named (by the org tree, the channel labels, the rows' names).
Pure: the tree comes in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Column
from xinfang_shared.auth.scope import org_name
from xinfang_shared.org import LEVEL_DEPTH, LEVEL_LABELS, Level, OrgTree

from xinfang_reports.models import items
from xinfang_reports.stats.filters import Period, level_of, shift_years
from xinfang_reports.stats.measures import CHANNEL_LABELS, KINDS
from xinfang_reports.stats.schemas import By

i = items.c
NO_PLACE = "未注明地点"
OUTSIDE = "other"  # the place lies outside the unit broken down (or the tree does not know it)
OUTSIDE_NAME = "其他地点"
UNROUTED = "未分办"


@dataclass(frozen=True)
class Dimension:
    """``column``: what SQL groups by (a raw code); ``named``: the column of a name the rows
    carry beside it (its MAX is selected); ``key``: a group's raw value → the row it rolls up
    into; ``name``: a key → what a person reads (given the names the rows carried); ``keys``:
    rows listed even when empty, in their order (the months of the period, the townships)."""

    column: Column[Any]
    key: Callable[[Any], str]
    name: Callable[[str, dict[str, str]], str]
    named: Column[Any] | None = None
    keys: Sequence[str] = field(default_factory=tuple)
    by_time: bool = False
    previous_key: Callable[[str], str] = lambda k: k  # a row's key in the previous period


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _first(raw: Any) -> str:
    return _text(raw)


def month_key(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _month_of(day: date | None) -> str:
    return month_key(day.year, day.month) if day else ""


def _day_of(day: date | None) -> str:
    return day.isoformat() if day else ""


def _month_name(key: str, _names: dict[str, str]) -> str:
    year, month = key.split("-")
    return f"{int(year)}年{int(month)}月"


def _day_name(key: str, _names: dict[str, str]) -> str:
    d = date.fromisoformat(key)
    return f"{d.year}年{d.month}月{d.day}日"


def _year_before_month(key: str) -> str:
    year, month = key.split("-")
    return month_key(int(year) - 1, int(month))


def _year_before_day(key: str) -> str:
    """The same day a year earlier (29 February: the 28th)."""
    return shift_years(date.fromisoformat(key), -1).isoformat()


def rollup_place(tree: OrgTree, within: str, code: str | None) -> str:
    """The row an item's place counts under: the child of ``within`` that holds it, ``within``
    itself, "" (no place), or :data:`OUTSIDE`."""
    if not code:
        return ""
    if code == within:
        return within
    for unit in tree.ancestors(code):
        if unit.parent == within:
            return unit.code
    return OUTSIDE


def _org_label(tree: OrgTree, empty: str) -> Callable[[str, dict[str, str]], str]:
    def name(key: str, names: dict[str, str]) -> str:
        if not key:
            return empty
        return org_name(tree, key) or names.get(key) or key

    return name


def _receiving_label(tree: OrgTree) -> Callable[[str, dict[str, str]], str]:
    def name(key: str, names: dict[str, str]) -> str:
        if not key:
            return "未注明登记机构"
        unit = tree.unit(key)
        return unit.petition_office_name if unit else org_name(tree, key) or names.get(key) or key

    return name


def dimension(by: By, *, tree: OrgTree, period: Period, within: str) -> Dimension:
    """How to group and name the rows of a breakdown ``by`` (``within``: the unit whose
    children the places roll up to)."""
    if by is By.MONTH:
        return Dimension(
            i.received_date,
            _month_of,
            _month_name,
            keys=[month_key(y, m) for y, m in period.months()],
            by_time=True,
            previous_key=_year_before_month,
        )
    if by is By.DAY:
        return Dimension(
            i.received_date,
            _day_of,
            _day_name,
            keys=[d.isoformat() for d in period.days()],
            by_time=True,
            previous_key=_year_before_day,
        )
    if by is By.CHANNEL:
        return Dimension(
            i.channel,
            _first,
            lambda k, _n: CHANNEL_LABELS.get(k, k) if k else "未注明渠道",
            keys=list(CHANNEL_LABELS),
        )
    if by is By.KIND:
        return Dimension(i.kind, _first, lambda k, _n: k or "未注明性质", keys=list(KINDS))
    if by is By.CATEGORY:
        return Dimension(
            i.category,
            _first,
            lambda k, n: n.get(k) or k or "未分类",
            named=i.category_name,
        )
    if by is By.PLACE:
        unit = tree.unit(within)
        children = sorted(c for c, u in tree.units.items() if u.parent == within)

        def place_name(key: str, _names: dict[str, str]) -> str:
            if key == "":
                return NO_PLACE
            if key == OUTSIDE:
                return OUTSIDE_NAME
            if key == within:
                return f"{unit.name if unit else within}（本级）"
            return org_name(tree, key) or key

        return Dimension(
            i.place_code,
            lambda raw: rollup_place(tree, within, raw),
            place_name,
            keys=children,
        )
    if by is By.RECEIVING:
        return Dimension(
            i.receiving_office_code,
            _first,
            _receiving_label(tree),
            named=i.receiving_office_name,
        )
    if by is By.HANDLING:
        return Dimension(
            i.handling_code,
            _first,
            _org_label(tree, UNROUTED),
            named=i.handling_name,
        )
    # By.LEVEL: the level of the handling body's unit
    return Dimension(
        i.handling_code,
        lambda raw: _level_key(tree, raw),
        _level_name,
        keys=[lv.value for lv in sorted({u.level for u in tree.units.values()}, key=_depth)],
    )


def _depth(level: Level) -> int:
    return LEVEL_DEPTH[level]


def _level_key(tree: OrgTree, code: str | None) -> str:
    if not code:
        return ""
    level = level_of(tree, code)
    return level.value if level else OUTSIDE


def _level_name(key: str, _names: dict[str, str]) -> str:
    if key == "":
        return UNROUTED
    if key == OUTSIDE:
        return "其他（组织机构中无此单位）"
    return LEVEL_LABELS[Level(key)]
