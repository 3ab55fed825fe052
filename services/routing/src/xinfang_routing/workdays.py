"""Working days on the official calendar (holidays and 调休 make-up workdays, chinese-calendar)."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the calendar package does not know yet
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after ``start`` (the start day itself is not counted)."""
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_workday(day):
            counted += 1
    return day
