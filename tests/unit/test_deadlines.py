from __future__ import annotations

from datetime import date, timedelta

from xinfang_supervision.deadlines import NATIONAL_DEFAULT, checkpoints, due_date, next_notice

R = (7, 3, 1)
DUE = date(2026, 3, 16)


def test_national_default_limits() -> None:
    limits = {r.kind: r.days for r in NATIONAL_DEFAULT}
    assert limits == {"acceptance_notice": 15, "handling": 60}


def test_day_of_receipt_is_not_counted() -> None:
    assert due_date(date(2026, 3, 1), 15) == date(2026, 3, 16)
    assert due_date(date(2026, 1, 1), 60) == date(2026, 3, 2)


def test_checkpoints_are_reminders_then_overdue() -> None:
    pts = checkpoints(DUE, R)
    assert [d for d, _ in pts] == [
        date(2026, 3, 9),
        date(2026, 3, 13),
        date(2026, 3, 15),
        date(2026, 3, 17),
    ]
    assert [n.kind for _, n in pts] == ["reminder", "reminder", "reminder", "overdue"]
    assert [n.days_before for _, n in pts] == [7, 3, 1, None]


def test_nothing_before_the_first_reminder() -> None:
    notice, nxt = next_notice(DUE, date(2026, 3, 8), R, -1)
    assert notice is None and nxt == date(2026, 3, 9)


def test_each_reminder_once_in_order() -> None:
    stage = -1
    sent = []
    day = date(2026, 3, 1)
    while day <= date(2026, 3, 20):
        notice, _ = next_notice(DUE, day, R, stage)
        if notice:
            sent.append((day, notice.kind, notice.days_before))
            stage = notice.stage
        day += timedelta(days=1)
    assert sent == [
        (date(2026, 3, 9), "reminder", 7),
        (date(2026, 3, 13), "reminder", 3),
        (date(2026, 3, 15), "reminder", 1),
        (date(2026, 3, 17), "overdue", None),
    ]


def test_a_jump_sends_only_the_most_urgent_notice() -> None:
    # clock moved 12 days past receipt on 1 March: the 3-day reminder, not the stale 7-day one
    notice, nxt = next_notice(DUE, date(2026, 3, 13), R, -1)
    assert notice is not None and notice.days_before == 3
    assert nxt == date(2026, 3, 15)
    notice, nxt = next_notice(DUE, date(2026, 4, 30), R, -1)
    assert notice is not None and notice.kind == "overdue" and nxt is None


def test_already_sent_is_not_sent_again() -> None:
    notice, nxt = next_notice(DUE, date(2026, 3, 13), R, 1)
    assert notice is None and nxt == date(2026, 3, 15)
