"""The working-day calendar beyond the calendar package's data (issue #13 item 11): statutory
holidays computed from the law's rules for any year, 补假, and a loaded 调休 notice."""

from __future__ import annotations

from datetime import date, timedelta

from xinfang_shared.workdays import (
    BUILT_IN,
    WorkCalendar,
    YearNotice,
    add_working_days,
    is_workday,
    next_workday_on_or_after,
    notice_problems,
    statutory_holidays,
)
from xinfang_supervision.profiles import default_profiles

NATIONAL = default_profiles()["national"]


def test_the_third_day_of_the_2027_spring_festival_is_not_a_working_day() -> None:
    # 2027-02-08 is 正月初三 (a Monday): a statutory 春节 day, whatever the package lacks
    assert BUILT_IN.source(2027) == "rules"
    assert not is_workday(date(2027, 2, 8))
    # 除夕 (Friday 5 Feb) is a holiday too since 2025
    assert not is_workday(date(2027, 2, 5))
    assert statutory_holidays(2027)[date(2027, 2, 5)] == "春节"


def test_a_sixty_day_deadline_crossing_the_2027_spring_festival_lands_after_it() -> None:
    # 60 days after 10 Dec 2026 is 8 Feb 2027 (初三). Two 春节 days fell on the weekend
    # (6–7 Feb): they are made up on 9 and 10 Feb (补假), so the period ends on Thursday 11 Feb.
    assert NATIONAL["handling"].due(date(2026, 12, 10)) == date(2027, 2, 11)
    # 5 working days from Wednesday 3 Feb 2027: 4 Feb, then 11, 12, 15, 16 Feb
    assert add_working_days(date(2027, 2, 3), 5) == date(2027, 2, 16)


def test_labour_day_is_two_days_and_the_lunar_holidays_count_in_a_fallback_year() -> None:
    assert BUILT_IN.source(2028) == "rules"
    assert date(2028, 5, 2).weekday() == 1  # a Tuesday, off since 2025
    assert not is_workday(date(2028, 5, 2))
    assert is_workday(date(2028, 5, 3))
    off = statutory_holidays(2028)
    assert off[date(2028, 4, 4)] == "清明节"  # the solar term's day
    assert off[date(2028, 5, 28)] == "端午节"  # 五月初五
    # 中秋 (八月十五) falls on 3 Oct, a 国庆 day, and 1 Oct is a Sunday: both made up (补假)
    assert off[date(2028, 10, 3)] == "国庆节、中秋节"
    assert next_workday_on_or_after(date(2028, 10, 1)) == date(2028, 10, 6)


def test_the_package_still_decides_the_years_it_covers() -> None:
    assert BUILT_IN.source(2026) == "package"
    assert is_workday(date(2026, 2, 28))  # a 调休 Saturday from the 2026 notice


def test_a_loaded_notice_overrides_the_computed_rule_for_its_year() -> None:
    computed = NATIONAL["acceptance_notice"].due(date(2027, 1, 24))  # 15 days → 8 Feb
    assert computed == date(2027, 2, 11)
    off = {date(2027, 2, 5) + timedelta(days=k) for k in range(9)}  # 5–13 Feb
    notice = YearNotice(2027, frozenset(off), frozenset({date(2027, 2, 20)}), "测试通知")
    cal = WorkCalendar(notices={2027: notice})
    assert cal.source(2027) == "notice"
    assert NATIONAL["acceptance_notice"].due(date(2027, 1, 24), calendar=cal) == date(2027, 2, 15)
    assert cal.is_workday(date(2027, 2, 20))  # a Saturday made a working day
    assert not is_workday(date(2027, 2, 20))


def test_a_notice_that_drops_a_statutory_holiday_or_moves_a_weekday_is_refused() -> None:
    problems = notice_problems(2027, [date(2027, 1, 1)], [date(2027, 2, 3), date(2028, 1, 1)])
    text = " ".join(zh for zh, _ in problems)
    assert "不在2027年内" in text and "周六或周日" in text and "缺少法定节假日" in text
    full = set(d for d, n in statutory_holidays(2027).items() if "补假" not in n)
    assert notice_problems(2027, full, [date(2027, 2, 20)]) == []
