"""Time helpers. All timestamps are timezone-aware; calendar days are counted in Asia/Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def ensure_aware(dt: datetime) -> datetime:
    """Reject naive datetimes: every timestamp in the system carries its zone."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return dt


def local_date(dt: datetime) -> date:
    """The calendar day (Asia/Shanghai) on which an instant falls."""
    return ensure_aware(dt).astimezone(SHANGHAI).date()


def start_of_local_day(day: date) -> datetime:
    """The first instant of a calendar day in Asia/Shanghai, as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=SHANGHAI).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """The first instant after a calendar day ends in Asia/Shanghai (exclusive bound)."""
    return start_of_local_day(day + timedelta(days=1))
