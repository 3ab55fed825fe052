"""Working days on the official calendar (holidays and 调休 make-up workdays, chinese-calendar)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

# Fixed-date statutory holidays, for years the calendar package does not cover yet (the
# movable ones — 春节, 清明, 端午, 中秋 — and 调休 need the State Council's yearly notice).
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar package does not know yet
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def next_workday_on_or_after(day: date) -> date:
    """民法典 §203: a period whose last day is a statutory holiday or rest day ends on the first
    working day after it (调休 make-up working days count as working days)."""
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (the start day itself is not counted)."""
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day
