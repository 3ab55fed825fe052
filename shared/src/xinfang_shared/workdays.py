"""Working days on the official calendar: statutory holidays, 补假 and 调休 make-up workdays.

Where a day's year comes from, first match wins:

1. a **loaded notice** (:class:`YearNotice`): the State Council General Office's yearly notice
   (放假安排的通知) as an administrator loaded it — the days off and the make-up working days;
2. the **calendar package** (``chinese-calendar``), for the years its data covers;
3. the **statutory rules** (``data/holidays.yaml``, 《全国年节及纪念日放假办法》 as revised in
   2024): the fixed and lunar holidays computed for any year (lunar dates and solar terms from
   ``lunar-python``), each holiday day that falls on a weekend made up on the next working day
   (补假); no 调休 (which only the notice fixes), so weekends are rest days.

Pure apart from reading the packaged rules file (once, on first use).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import chinese_calendar
import yaml
from lunar_python import Lunar

Source = Literal["notice", "package", "rules"]
SOURCE_LABELS: dict[str, str] = {
    "notice": "已载入的国务院办公厅放假安排通知",
    "package": "日历数据包（chinese-calendar）",
    "rules": "按《全国年节及纪念日放假办法》推算（未含调休）",
}


@dataclass(frozen=True)
class HolidayRule:
    name: str
    calendar: Literal["solar", "lunar", "solar_term"]
    days: int
    month: int = 0
    day: int = 0
    term: str = ""
    offset: int = 0


@dataclass(frozen=True)
class Rules:
    basis: str
    effective_from: int
    weekend_make_up: bool
    holidays: tuple[HolidayRule, ...]


class RulesError(ValueError):
    pass


def parse_rules(doc: Any) -> Rules:
    """Validate the holiday rules document (``data/holidays.yaml``)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("holidays"), list):
        raise RulesError("holiday rules need a list of holidays")
    rules = []
    for i, raw in enumerate(doc["holidays"]):
        if not isinstance(raw, dict) or not str(raw.get("name") or "").strip():
            raise RulesError(f"holidays[{i}] needs a name")
        kind = raw.get("calendar")
        days, offset = raw.get("days"), raw.get("offset", 0)
        if not isinstance(days, int) or not 1 <= days <= 10 or not isinstance(offset, int):
            raise RulesError(f"holidays[{i}]: days must be 1..10 and offset an integer")
        month, day, term = raw.get("month", 0), raw.get("day", 0), str(raw.get("term") or "")
        if kind == "solar_term":
            if not term:
                raise RulesError(f"holidays[{i}]: a solar_term holiday needs its term")
        elif kind in ("solar", "lunar"):
            top = 31 if kind == "solar" else 29  # not every lunar month has a 30th day
            if not (isinstance(month, int) and 1 <= month <= 12):
                raise RulesError(f"holidays[{i}]: month must be 1..12")
            if not (isinstance(day, int) and 1 <= day <= top):
                raise RulesError(f"holidays[{i}]: day must be 1..{top}")
        else:
            raise RulesError(f"holidays[{i}]: calendar must be solar, lunar or solar_term")
        rules.append(HolidayRule(str(raw["name"]), kind, days, month, day, term, offset))
    return Rules(
        basis=str(doc.get("basis", "")),
        effective_from=int(doc.get("effective_from", 0)),
        weekend_make_up=bool(doc.get("weekend_make_up", False)),
        holidays=tuple(rules),
    )


@lru_cache(maxsize=1)
def default_rules() -> Rules:
    text = (
        resources.files("xinfang_shared").joinpath("data/holidays.yaml").read_text(encoding="utf-8")
    )
    return parse_rules(yaml.safe_load(text))


def _first_day(rule: HolidayRule, year: int) -> date:
    if rule.calendar == "solar":
        start = date(year, rule.month, rule.day)
    elif rule.calendar == "lunar":
        s = Lunar.fromYmd(year, rule.month, rule.day).getSolar()
        start = date(s.getYear(), s.getMonth(), s.getDay())
    else:
        table = Lunar.fromYmd(year, 1, 1).getJieQiTable()
        s = table[rule.term]
        start = date(s.getYear(), s.getMonth(), s.getDay())
    return start + timedelta(days=rule.offset)


@lru_cache(maxsize=64)
def statutory_holidays(year: int, rules: Rules | None = None) -> Mapping[date, str]:
    """The statutory days off of ``year`` under the rules (day → holiday name), with 补假 when
    the rules ask for it: a holiday day on a weekend, or on another holiday (中秋 on 国庆), is
    made up on the first working day after the holiday. Empty for a year the lunar calendar
    cannot compute."""
    rules = rules or default_rules()
    blocks: list[tuple[str, list[date]]] = []
    try:
        for rule in rules.holidays:
            first = _first_day(rule, year)
            blocks.append((rule.name, [first + timedelta(days=k) for k in range(rule.days)]))
    except (ValueError, KeyError, OverflowError, IndexError):
        return {}
    off: dict[date, str] = {}
    for name, days in sorted(blocks, key=lambda b: b[1][0]):
        owed = 0  # days of this holiday that fell on a weekend or on another holiday
        for d in days:
            if d in off:
                off[d] = f"{off[d]}、{name}"
                owed += 1
            else:
                off[d] = name
                owed += int(d.weekday() >= 5)
        if not rules.weekend_make_up:
            continue
        day = days[-1]
        while owed:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in off:
                off[day] = f"{name}（补假）"
                owed -= 1
    return {d: n for d, n in off.items() if d.year == year}


@dataclass(frozen=True)
class YearNotice:
    """One year's official holiday notice: the days off (statutory days and 调休 rest days) and
    the make-up working days (weekends made working days)."""

    year: int
    days_off: frozenset[date]
    workdays: frozenset[date]
    document: str = ""


def notice_problems(
    year: int, days_off: Iterable[date], workdays: Iterable[date], rules: Rules | None = None
) -> list[tuple[str, str]]:
    """Why a notice for ``year`` cannot be right (Chinese, English); empty when it can."""
    off, work = set(days_off), set(workdays)
    problems: list[tuple[str, str]] = []
    outside = sorted(d for d in off | work if d.year != year)
    if outside:
        problems.append(
            (
                f"日期不在{year}年内：{'、'.join(d.isoformat() for d in outside)}",
                f"dates outside {year}: {', '.join(d.isoformat() for d in outside)}",
            )
        )
    both = sorted(off & work)
    if both:
        problems.append(
            (
                f"同一天既放假又上班：{'、'.join(d.isoformat() for d in both)}",
                f"days both off and working: {', '.join(d.isoformat() for d in both)}",
            )
        )
    weekdays = sorted(d for d in work if d.weekday() < 5)
    if weekdays:
        problems.append(
            (
                f"调休上班日应为周六或周日：{'、'.join(d.isoformat() for d in weekdays)}",
                f"make-up working days must be weekends: "
                f"{', '.join(d.isoformat() for d in weekdays)}",
            )
        )
    rules = rules or default_rules()
    if year >= rules.effective_from:
        statutory = {d: n for d, n in statutory_holidays(year, rules).items() if "补假" not in n}
        dropped = sorted(d for d in statutory if d not in off)
        if dropped:
            names = "、".join(f"{d.isoformat()}（{statutory[d]}）" for d in dropped)
            problems.append(
                (
                    f"通知缺少法定节假日：{names}",
                    f"the notice leaves out statutory holidays: "
                    f"{', '.join(d.isoformat() for d in dropped)}",
                )
            )
    return problems


@lru_cache(maxsize=512)
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar: loaded notices, then the package's data, then the rules."""

    notices: Mapping[int, YearNotice] = field(default_factory=dict)
    rules: Rules | None = None

    def source(self, year: int) -> Source:
        if year in self.notices:
            return "notice"
        return "package" if _package_covers(year) else "rules"

    def is_workday(self, day: date) -> bool:
        notice = self.notices.get(day.year)
        if notice is not None:
            if day in notice.workdays:
                return True
            return day.weekday() < 5 and day not in notice.days_off
        if _package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < 5 and day not in statutory_holidays(day.year, self.rules)

    def next_workday_on_or_after(self, day: date) -> date:
        """民法典 §203: a period whose last day is a statutory holiday or rest day ends on the
        first working day after it (调休 make-up working days count as working days)."""
        while not self.is_workday(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (the start day itself is not counted)."""
        day = start
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        return day


BUILT_IN = WorkCalendar()  # the package's data and the statutory rules, no loaded notices


def is_workday(day: date, calendar: WorkCalendar = BUILT_IN) -> bool:
    return calendar.is_workday(day)


def next_workday_on_or_after(day: date, calendar: WorkCalendar = BUILT_IN) -> date:
    return calendar.next_workday_on_or_after(day)


def add_working_days(start: date, n: int, calendar: WorkCalendar = BUILT_IN) -> date:
    return calendar.add_working_days(start, n)
