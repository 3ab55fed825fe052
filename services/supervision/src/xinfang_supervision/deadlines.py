"""When to remind, 督办 and escalate: pure functions, no I/O.

For a due date D: a yellow reminder N days before for each N in ``reminder_days``; on D+1 the
deadline is overdue (red): a 督办 order goes to the handling unit from the level above; every
``grace_days`` after that while it is still open, it escalates one level further up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


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
