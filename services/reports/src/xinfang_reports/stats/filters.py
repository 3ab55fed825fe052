"""What every statistics, ledger and report endpoint takes, as SQL conditions on ``rpt_items``:
the period (and the same period a year earlier), the common filters, and the caller's scope.

- A period is [from, to], inclusive local dates; by default this month up to today. ``to`` is
  not before ``from`` and the span is at most ten years. ``previous`` is the same period one
  year earlier, a 29 February becoming the 28th.
- Scope: an item is seen when its receiving office, its handling body or its place is in the
  caller's org subtree (no condition at the root of the tree); a handler (承办人) sees only the
  items its own department or unit handles.
- Filters, all optional: channel, kind, category; place (a unit: it and every unit below it);
  receiving (the receiving office's code); handling (an org code: a unit with its departments
  and its whole subtree); level (the handling body's unit level); collective; repeat
  (重复信访 or not); measure (only the items a measure counts: the drill-down).

Pure: the org tree comes in, nothing is read from a database here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, false, or_
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, unit_of
from xinfang_shared.org import Level, OrgTree

from xinfang_reports.models import items
from xinfang_reports.stats.measures import MEASURES, REPEAT, Window

i = items.c
MAX_YEARS = 10
MIN_YEAR, MAX_YEAR = 1900, 2999
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


class FilterProblem(ValueError):
    """A query parameter that cannot be counted with: which one, and why (Chinese, English)."""

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.field = field
        self.zh = zh
        self.en = en


def shift_years(day: date, years: int) -> date:
    """The same day ``years`` later (earlier when negative); 29 February → 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February of a leap year into a common one
        return day.replace(year=day.year + years, day=28)


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class Period:
    """[start, end], inclusive local dates."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date | None, end: date | None, *, today: date) -> Period:
        """The period asked for: by default from the first of ``end``'s month (or of this
        month) to ``today``; :class:`FilterProblem` if it cannot be counted over."""
        end = end or today
        start = start or end.replace(day=1)
        for name, day in (("from", start), ("to", end)):
            if not MIN_YEAR <= day.year <= MAX_YEAR:
                raise FilterProblem(
                    name,
                    f"日期应在 {MIN_YEAR} 年至 {MAX_YEAR} 年之间",
                    f"the date must lie between the years {MIN_YEAR} and {MAX_YEAR}",
                )
        if end < start:
            raise FilterProblem(
                "to",
                "结束日期不能早于开始日期",
                "the period's end (to) must not be before its start (from)",
            )
        if end >= shift_years(start, MAX_YEARS):
            raise FilterProblem(
                "to",
                f"统计区间最长 {MAX_YEARS} 年",
                f"the period must not be longer than {MAX_YEARS} years",
            )
        return cls(start, end)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls(date(year, month, 1), month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls(date(year, first, 1), month_end(year, first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(date(year, 1, 1), date(year, 12, 31))

    def previous(self) -> Period:
        """The same period one year earlier."""
        return Period(shift_years(self.start, -1), shift_years(self.end, -1))

    def window(self, as_of: date) -> Window:
        return Window(self.start, self.end, as_of)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def months(self) -> list[tuple[int, int]]:
        """(year, month) of every month the period touches, in order."""
        y, m = self.start.year, self.start.month
        out = []
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    @property
    def label(self) -> str:
        """As a report names it: 2026年7月, 2026年第三季度, 2026年, else the two dates."""
        s, e = self.start, self.end
        whole_months = s.day == 1 and e == month_end(e.year, e.month) and s.year == e.year
        if whole_months and s.month == e.month:
            return f"{s.year}年{s.month}月"
        if whole_months and s.month % 3 == 1 and e.month == s.month + 2:
            return f"{s.year}年{QUARTERS[s.month // 3]}"
        if whole_months and (s.month, e.month) == (1, 12):
            return f"{s.year}年"
        first = f"{s.year}年{s.month}月{s.day}日"
        if s == e:
            return first
        last = f"{e.month}月{e.day}日" if e.year == s.year else f"{e.year}年{e.month}月{e.day}日"
        return f"{first}至{last}"


@dataclass(frozen=True)
class Filters:
    """The common filters of every endpoint (None: not filtered)."""

    channel: str | None = None
    kind: str | None = None
    category: str | None = None
    place: str | None = None
    receiving: str | None = None
    handling: str | None = None
    level: Level | None = None
    collective: bool | None = None
    repeat: bool | None = None
    measure: str | None = None


def is_root(tree: OrgTree, unit_code: str) -> bool:
    unit = tree.unit(unit_code)
    return unit is not None and unit.parent is None


def scope_clause(scope: Scope) -> ColumnElement[bool] | None:
    """The items the caller may see; None: all of them (the root of the tree)."""
    if scope.principal.role is Role.HANDLER:
        return i.handling_code == scope.principal.org_code
    if is_root(scope.tree, scope.unit_code):
        return None
    codes = sorted(scope.org_codes)
    return or_(
        i.receiving_office_code.in_(codes), i.handling_code.in_(codes), i.place_code.in_(codes)
    )


def units_under(tree: OrgTree, code: str) -> set[str]:
    """``code`` and every unit below it (a code the tree does not know: itself alone)."""
    if tree.unit(code) is None:
        return {code}
    return {c for c in tree.units if tree.is_ancestor(code, c)}


def orgs_under(tree: OrgTree, code: str) -> set[str]:
    """``code``, and for a unit every unit below it and all their departments."""
    units = units_under(tree, code)
    return units | {d.code for d in tree.departments.values() if d.unit in units}


def at_level(tree: OrgTree, level: Level) -> set[str]:
    """The org codes (units and their departments) whose unit is at ``level``."""
    units = {u.code for u in tree.units.values() if u.level is level}
    return units | {d.code for d in tree.departments.values() if d.unit in units}


def level_of(tree: OrgTree, org_code: str | None) -> Level | None:
    """The level of the unit an org code (a unit or a department) belongs to."""
    unit = unit_of(tree, org_code) if org_code else None
    found = tree.unit(unit) if unit else None
    return found.level if found else None


def filter_clauses(f: Filters, tree: OrgTree, window: Window) -> list[ColumnElement[bool]]:
    """The conditions of the filters given (the measure's over ``window``)."""
    where: list[ColumnElement[bool]] = []
    if f.channel is not None:
        where.append(i.channel == f.channel)
    if f.kind is not None:
        where.append(i.kind == f.kind)
    if f.category is not None:
        where.append(i.category == f.category)
    if f.place is not None:
        where.append(i.place_code.in_(sorted(units_under(tree, f.place))))
    if f.receiving is not None:
        where.append(i.receiving_office_code == f.receiving)
    if f.handling is not None:
        where.append(i.handling_code.in_(sorted(orgs_under(tree, f.handling))))
    if f.level is not None:
        codes = at_level(tree, f.level)
        where.append(i.handling_code.in_(sorted(codes)) if codes else false())
    if f.collective is not None:
        where.append(i.collective.is_(f.collective))
    if f.repeat is True:
        where.append(i.repeat_match == REPEAT)
    elif f.repeat is False:
        where.append(or_(i.repeat_match.is_(None), i.repeat_match != REPEAT))
    if f.measure is not None:
        where.append(MEASURES[f.measure].where(window))
    return where


def cohort_clause(period: Period) -> ColumnElement[bool]:
    """The items received in the period."""
    return and_(i.received_date >= period.start, i.received_date <= period.end)


def base_clauses(
    scope: Scope, f: Filters, window: Window, *, period: Period | None
) -> list[ColumnElement[bool]]:
    """Scope, filters and, when ``period`` is given, the cohort of the period."""
    where = [c for c in (scope_clause(scope),) if c is not None]
    if period is not None:
        where.append(cohort_clause(period))
    return [*where, *filter_clauses(f, scope.tree, window)]
