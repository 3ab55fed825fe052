"""When the top of the tree is reminded of an alert nobody acknowledged (pure).

Below the top an unacknowledged alert goes one level up every ``ack_timeout``. At the top there
is nobody further up: its leadership is reminded at fixed points after the alert reached it
(e.g. 1 h, 4 h, 24 h, then daily), a bounded number of times. A reminder is due when a point has
passed; the points passed meanwhile (a clock jump, a stopped service) make one reminder, and the
next is the first point still ahead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta


def schedule(after_h: Sequence[float], every_h: float, max_n: int) -> tuple[timedelta, ...]:
    """The reminder points, as offsets from when the alert reached the top: ``after_h``, then
    every ``every_h`` after the last of them, ``max_n`` points in all."""
    hours = sorted(after_h)[:max_n]
    while len(hours) < max_n:
        hours.append((hours[-1] if hours else 0.0) + every_h)
    return tuple(timedelta(hours=h) for h in hours)


def position(since: datetime, now: datetime, points: Sequence[timedelta]) -> int:
    """How many reminder points have passed at ``now``."""
    return sum(1 for p in points if since + p <= now)


def next_point(since: datetime, passed: int, points: Sequence[timedelta]) -> datetime | None:
    """The first reminder point after the ``passed`` ones; None when the schedule is done."""
    return since + points[passed] if passed < len(points) else None
