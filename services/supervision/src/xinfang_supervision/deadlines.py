"""Deadlines under the law: when each one ends, when to remind, 督办 and escalate. Pure
functions, no I/O; every due date supervision computes comes from :func:`due_date`.

A period starts the day after its start day (the start day is not counted). A working-day
period counts working days of the official calendar (调休 included); a calendar-day period that
ends on a holiday or rest day runs to the next working day (民法典 §203). Days added to a period
(an approved extension) lengthen it before that rule applies.

For a due date D: a yellow reminder N days before for each N in ``reminder_days``; on D+1 the
deadline is overdue (red): a 督办 order goes to the handling unit from the level above; every
``grace_days`` after that while it is still open, it escalates one level further up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from xinfang_shared.workdays import BUILT_IN, WorkCalendar

if TYPE_CHECKING:
    from xinfang_supervision.profiles import Limit, Profile


def period_end(
    limit: Limit, start: date, extra_days: int = 0, *, calendar: WorkCalendar = BUILT_IN
) -> date:
    """The last day of ``limit``'s period (plus ``extra_days``) that starts after ``start``."""
    if limit.working:
        return calendar.add_working_days(start, limit.days + extra_days)
    return calendar.next_workday_on_or_after(start + timedelta(days=limit.days + extra_days))


def due_date(
    profile: Profile,
    kind: str,
    start: date,
    *,
    calendar: WorkCalendar,
    extra_days: int = 0,
) -> date:
    """The due date of the ``kind`` period of ``profile`` (a deadline, a request window, the
    督办 feedback) that starts on ``start``: the one rule every deadline is computed by."""
    return period_end(profile[kind], start, extra_days, calendar=calendar)


def recomputed_due(
    limit: Limit,
    start: date,
    due: date,
    *,
    extra_days: int,
    old: WorkCalendar,
    new: WorkCalendar,
) -> date:
    """The due date of an open deadline under a new calendar (a holiday notice loaded): days
    added to it by hand, such as a hearing's, are kept."""
    added = due - period_end(limit, start, extra_days, calendar=old)
    return period_end(limit, start, extra_days, calendar=new) + added


@dataclass(frozen=True)
class Notice:
    kind: str  # "reminder" | "overdue" | "escalation"
    days_before: int | None  # reminders
    stage: int
    escalation: int = 0  # escalations: 1 = one level above the 督办 level


def checkpoints(
    due: date, reminder_days: tuple[int, ...], grace_days: int = 7, max_escalations: int = 0
) -> list[tuple[date, Notice]]:
    points = [
        (due - timedelta(days=n), Notice("reminder", n, i))
        for i, n in enumerate(sorted(reminder_days, reverse=True))
    ]
    points.append((due + timedelta(days=1), Notice("overdue", None, len(points))))
    for k in range(1, max_escalations + 1):
        points.append(
            (due + timedelta(days=1 + k * grace_days), Notice("escalation", None, len(points), k))
        )
    return points


def next_notice(
    due: date,
    today: date,
    reminder_days: tuple[int, ...],
    stage_done: int,
    grace_days: int = 7,
    max_escalations: int = 0,
) -> tuple[Notice | None, date | None]:
    """What to act on today, and the next date to look again.

    ``stage_done`` is the last checkpoint already acted on (-1: none). When the clock jumps past
    several reminders only the most urgent one is sent; the overdue notice and each escalation
    are never skipped (each is a step up the hierarchy), one per sweep.
    """
    points = checkpoints(due, reminder_days, grace_days, max_escalations)
    reached = [n for d, n in points if d <= today and n.stage > stage_done]
    notice: Notice | None = None
    if reached:
        firm = [n for n in reached if n.kind != "reminder"]
        notice = firm[0] if firm else reached[-1]
    done = notice.stage if notice else stage_done
    upcoming = [d for d, n in points if n.stage > done]
    nxt = upcoming[0] if upcoming else None
    if notice is not None and nxt is not None and nxt <= today:
        nxt = today  # more is already due: look again in the same sweep
    return notice, nxt


def first_check(due: date, reminder_days: tuple[int, ...]) -> date:
    return checkpoints(due, reminder_days)[0][0]
