"""The reports' measures and filters (issue #17), pure: the period arithmetic (defaults, the
previous year with 29 February, the limits and their Chinese messages), the rates' rounding,
the measures' definitions as the contract states them, the scope and filter conditions, and
how places and levels roll up."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.dialects import postgresql
from xinfang_reports.stats.dimensions import OUTSIDE, rollup_place
from xinfang_reports.stats.filters import (
    FilterProblem,
    Filters,
    Period,
    at_level,
    filter_clauses,
    level_of,
    orgs_under,
    scope_clause,
    shift_years,
)
from xinfang_reports.stats.measures import (
    FIGURES,
    MEASURES,
    PENDING,
    RATES,
    Window,
    difference,
    percent,
)
from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import Principal
from xinfang_shared.org import Level

TREE = org.default_tree()
W = Window(date(2026, 7, 1), date(2026, 9, 30), date(2026, 12, 1))


def sql(expr: object) -> str:
    compiled = expr.compile(  # type: ignore[attr-defined]
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    return " ".join(str(compiled).split())


def scope(role: Role, code: str) -> Scope:
    return Scope.of(Principal(username="u", name="u", role=role, org_code=code), TREE)


def test_a_year_earlier_keeps_the_day_and_turns_29_february_into_the_28th() -> None:
    assert shift_years(date(2026, 7, 1), -1) == date(2025, 7, 1)
    assert shift_years(date(2028, 2, 29), -1) == date(2027, 2, 28)
    leap = Period(date(2028, 2, 1), date(2028, 2, 29))
    assert leap.previous() == Period(date(2027, 2, 1), date(2027, 2, 28))
    assert Period.quarter(2026, 3).previous() == Period(date(2025, 7, 1), date(2025, 9, 30))


def test_the_default_period_is_this_month_up_to_today() -> None:
    today = date(2026, 8, 15)
    assert Period.of(None, None, today=today) == Period(date(2026, 8, 1), today)
    assert Period.of(None, date(2026, 3, 9), today=today) == Period(
        date(2026, 3, 1), date(2026, 3, 9)
    )
    assert Period.of(date(2026, 1, 1), None, today=today) == Period(date(2026, 1, 1), today)


@pytest.mark.parametrize(
    ("start", "end", "field", "zh"),
    [
        (date(2026, 7, 2), date(2026, 7, 1), "to", "结束日期不能早于开始日期"),
        (date(2016, 1, 1), date(2026, 1, 1), "to", "统计区间最长 10 年"),
        (date(1899, 12, 31), date(2026, 1, 1), "from", "日期应在 1900 年至 2999 年之间"),
    ],
)
def test_a_period_that_cannot_be_counted_says_why_in_chinese(
    start: date, end: date, field: str, zh: str
) -> None:
    with pytest.raises(FilterProblem) as caught:
        Period.of(start, end, today=date(2026, 8, 15))
    assert (caught.value.field, caught.value.zh) == (field, zh)
    assert caught.value.en  # and in English


def test_ten_years_to_the_day_is_the_longest_period() -> None:
    p = Period.of(date(2016, 1, 1), date(2025, 12, 31), today=date(2026, 1, 1))
    assert p.end == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("period", "label"),
    [
        (Period.month(2026, 7), "2026年7月"),
        (Period.quarter(2026, 3), "2026年第三季度"),
        (Period.quarter(2026, 1), "2026年第一季度"),
        (Period.year(2026), "2026年"),
        (Period(date(2026, 7, 1), date(2026, 9, 15)), "2026年7月1日至9月15日"),
        (Period(date(2025, 12, 1), date(2026, 1, 31)), "2025年12月1日至2026年1月31日"),
        (Period(date(2026, 7, 3), date(2026, 7, 3)), "2026年7月3日"),
    ],
)
def test_a_period_is_named_as_a_report_names_it(period: Period, label: str) -> None:
    assert period.label == label


def test_the_months_and_days_of_a_period() -> None:
    p = Period(date(2025, 11, 20), date(2026, 2, 2))
    assert p.months() == [(2025, 11), (2025, 12), (2026, 1), (2026, 2)]
    assert len(p.days()) == 75 and p.days()[0] == p.start and p.days()[-1] == p.end


def test_rates_are_percent_with_one_decimal_rounded_half_up_and_null_without_base() -> None:
    assert percent(1, 8) == 12.5
    assert percent(1, 16) == 6.3  # 6.25: half up, not to even
    assert percent(2, 3) == 66.7
    assert percent(4, 7) == 57.1
    assert percent(3, 3) == 100.0
    assert percent(0, 5) == 0.0
    assert percent(0, 0) is None
    assert difference(12.5, 33.3) == -20.8  # percentage points, no binary noise
    assert difference(8, 3) == 5
    assert difference(None, 3) is None


def test_every_figure_is_defined_and_every_measure_listed() -> None:
    defined = set(MEASURES) | set(RATES) | set(PENDING)
    assert set(FIGURES) == defined and len(FIGURES) == len(defined)
    for r in RATES.values():
        assert r.numerator in MEASURES and r.denominator in MEASURES
    labels = {k: m.label for k, m in MEASURES.items()}
    assert labels["visits"] == "来访批次" and MEASURES["visits"].unit == "批"
    assert labels["visit_persons"] == "来访人次" and MEASURES["visit_persons"].unit == "人次"
    assert labels["first_time"] == "初信初访" and labels["backlog_resolved"] == "化解"
    assert RATES["reply_ontime_rate"].label == "按期办结率（按期答复率）"
    assert PENDING["satisfied_rate"].note == "信访人评价上线后统计"
    assert not MEASURES["backlog_total"].cohort and MEASURES["overdue"].cohort


def test_the_measures_conditions_read_as_the_definitions() -> None:
    def where(key: str) -> str:
        return sql(MEASURES[key].where(W))

    assert where("repeat") == "rpt_items.repeat_match = '重复信访'"
    assert where("first_time") == "rpt_items.repeat_match IS NULL"
    assert where("accept_assessable") == (
        "rpt_items.decided_date IS NOT NULL OR rpt_items.accept_due < '2026-12-01'"
    )
    assert where("accept_timely") == "rpt_items.decided_date <= rpt_items.accept_due"
    assert where("reply_assessable") == (
        "rpt_items.decision = 'accepted' AND (rpt_items.replied_date IS NOT NULL "
        "OR rpt_items.reply_due < '2026-12-01')"
    )
    assert where("reply_ontime") == (
        "rpt_items.decision = 'accepted' AND rpt_items.replied_date <= rpt_items.reply_due"
    )
    assert where("backlog_total") == (
        "rpt_items.backlog = true AND rpt_items.backlog_date <= '2026-09-30' AND "
        "(rpt_items.closed_date IS NULL OR rpt_items.closed_date >= '2026-07-01')"
    )
    assert "rpt_items.closed_date <= '2026-09-30'" in where("backlog_resolved")
    assert where("collective_visits") == (
        "rpt_items.collective IS true AND rpt_items.channel = 'visit'"
    )
    assert MEASURES["collective_persons"].sums_persons


def test_the_scope_condition() -> None:
    assert scope_clause(scope(Role.LEADER, "339900")) is None  # the root sees everything
    county = sql(scope_clause(scope(Role.SUPERVISOR, "339922")))
    for column in ("receiving_office_code", "handling_code", "place_code"):
        assert f"rpt_items.{column} IN (" in county
    assert "'339922-zrzy'" in county and "'339922101201'" in county and "'339902'" not in county
    # a handler: only what its own department handles, wherever it sits
    assert sql(scope_clause(scope(Role.HANDLER, "339922-zrzy"))) == (
        "rpt_items.handling_code = '339922-zrzy'"
    )


def test_the_filters_conditions() -> None:
    (place,) = filter_clauses(Filters(place="339922101"), TREE, W)
    assert sql(place) == ("rpt_items.place_code IN ('339922101', '339922101201', '339922101202')")
    # a unit handles with its departments and everything below it
    assert {"339922", "339922-zrzy", "339922101", "339922102"} <= orgs_under(TREE, "339922")
    assert orgs_under(TREE, "339922-zrzy") == {"339922-zrzy"}
    assert orgs_under(TREE, "999999") == {"999999"}  # a code no longer in the tree: itself
    townships = at_level(TREE, Level.TOWNSHIP)
    assert "339922102" in townships and "339922-zrzy" not in townships
    assert level_of(TREE, "339922-zrzy") is Level.COUNTY
    assert level_of(TREE, "339922102") is Level.TOWNSHIP
    assert level_of(TREE, "nowhere") is None
    (repeat,) = filter_clauses(Filters(repeat=False), TREE, W)
    assert sql(repeat) == ("rpt_items.repeat_match IS NULL OR rpt_items.repeat_match != '重复信访'")
    (measure,) = filter_clauses(Filters(measure="overdue"), TREE, W)
    assert sql(measure) == "rpt_items.overdue IS true"
    assert filter_clauses(Filters(), TREE, W) == []


def test_places_roll_up_to_the_children_of_the_unit_broken_down() -> None:
    assert rollup_place(TREE, "339922", "339922101201") == "339922101"  # 东岗村 → 清河镇
    assert rollup_place(TREE, "339922", "339922102") == "339922102"  # 柳塘乡 itself
    assert rollup_place(TREE, "339922101", "339922101201") == "339922101201"
    assert rollup_place(TREE, "339922101", "339922101") == "339922101"  # the unit itself
    assert rollup_place(TREE, "339922", "339902002201") == OUTSIDE  # 临江区's village
    assert rollup_place(TREE, "339922", "no-such-place") == OUTSIDE
    assert rollup_place(TREE, "339922", None) == ""
