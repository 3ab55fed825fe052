"""Statutory deadlines and when to remind: pure functions, no I/O.

Days are calendar days in Asia/Shanghai. Following 民法典 §201, the day of receipt is not
counted: a 15-day limit from a receipt on 1 March ends at the end of 16 March. (Working-day
rules and the holiday calendar come with issue #4's rule profiles.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    label: str
    days: int
    basis: str  # the legal source


NATIONAL_DEFAULT: tuple[DeadlineRule, ...] = (
    DeadlineRule(
        "acceptance_notice",
        "受理告知（15日内书面告知是否受理）",
        15,
        "信访工作条例第二十三条",
    ),
    DeadlineRule(
        "handling",
        "办理答复（60日内出具处理意见书）",
        60,
        "信访工作条例第三十四条（受理前暂自收到之日起计算）",
    ),
)


def due_date(start: date, days: int) -> date:
    return start + timedelta(days=days)


@dataclass(frozen=True)
class Notice:
    kind: str  # "reminder" or "overdue"
    days_before: int | None  # for reminders
    stage: int


def checkpoints(due: date, reminder_days: tuple[int, ...]) -> list[tuple[date, Notice]]:
    """The dates on which something must be said about a deadline, in order: a reminder N days
    before (yellow) for each N, then overdue (red) on the day after the due date."""
    points = [
        (due - timedelta(days=n), Notice("reminder", n, i))
        for i, n in enumerate(sorted(reminder_days, reverse=True))
    ]
    points.append((due + timedelta(days=1), Notice("overdue", None, len(points))))
    return points


def next_notice(
    due: date, today: date, reminder_days: tuple[int, ...], stage_done: int
) -> tuple[Notice | None, date | None]:
    """What to send today, and the next date to look again.

    ``stage_done`` is the last checkpoint already sent (-1: none). When the clock jumps past
    several checkpoints only the most urgent one is sent: one message, not a burst of stale ones.
    """
    points = checkpoints(due, reminder_days)
    reached = [p for p in points if p[0] <= today]
    notice: Notice | None = None
    if reached and reached[-1][1].stage > stage_done:
        notice = reached[-1][1]
    done = notice.stage if notice else stage_done
    upcoming = [d for d, n in points if n.stage > done]
    return notice, (upcoming[0] if upcoming else None)


def first_check(due: date, reminder_days: tuple[int, ...]) -> date:
    return checkpoints(due, reminder_days)[0][0]
