"""Deadline arithmetic and the reminder / 督办 / escalation schedule (pure functions)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from xinfang_shared.workdays import add_working_days, is_workday, next_workday_on_or_after
from xinfang_supervision.deadlines import checkpoints, next_notice
from xinfang_supervision.profiles import default_profiles

R = (7, 3, 1)
DUE = date(2026, 3, 16)
NATIONAL = default_profiles()["national"]
ZHEJIANG = default_profiles()["zhejiang"]


@pytest.mark.parametrize(
    ("kind", "days"),
    [
        ("acceptance_notice", 15),
        ("handling", 60),
        ("max_extension", 30),
        ("review_request_window", 30),
        ("review_answer", 30),
        ("rereview_request_window", 30),
        ("rereview_answer", 30),
        ("supervision_feedback", 30),
    ],
)
def test_national_profile_has_every_row_of_the_deadline_table(kind: str, days: int) -> None:
    assert NATIONAL[kind].days == days and not NATIONAL[kind].working


def test_zhejiang_profile_is_stricter() -> None:
    assert ZHEJIANG["acceptance_notice"].days == 5 and ZHEJIANG["acceptance_notice"].working
    assert ZHEJIANG["handling"].days == 30
    assert ZHEJIANG["handling"].days + ZHEJIANG["max_extension"].days == 60


def test_day_of_receipt_is_not_counted() -> None:
    # received Monday 2 March 2026: 15 days → Tuesday 17 March
    assert NATIONAL["acceptance_notice"].due(date(2026, 3, 2)) == date(2026, 3, 17)


def test_a_calendar_deadline_ending_in_the_national_day_holiday_moves_to_the_first_workday() -> (
    None
):
    # 15 days after 16 Sept 2026 is 1 Oct, inside the 1–7 Oct holiday: it ends on Thursday 8 Oct
    assert NATIONAL["acceptance_notice"].due(date(2026, 9, 16)) == date(2026, 10, 8)
    # 10 Oct 2026 is a Saturday made a working day (调休): a deadline may end on it
    assert is_workday(date(2026, 10, 10))
    assert next_workday_on_or_after(date(2026, 10, 10)) == date(2026, 10, 10)


def test_a_calendar_deadline_ending_in_the_spring_festival_moves_past_it() -> None:
    # 2026 春节 holiday: 15–23 Feb; 28 Feb (Saturday) is a make-up working day
    assert NATIONAL["acceptance_notice"].due(date(2026, 2, 1)) == date(2026, 2, 24)
    assert is_workday(date(2026, 2, 28))


def test_working_day_limits_skip_holidays_and_count_make_up_days() -> None:
    # Zhejiang: 5 working days from 29 Sept 2026: 30 Sept, (1–7 Oct off), 8, 9, 10 (调休 Saturday), 12
    assert ZHEJIANG["acceptance_notice"].due(date(2026, 9, 29)) == date(2026, 10, 12)
    # 14 Feb 2026 (Saturday) is a make-up working day before the 春节 holiday (15–23 Feb)
    assert add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert add_working_days(date(2026, 2, 13), 2) == date(2026, 2, 24)


def test_extension_moves_the_due_date() -> None:
    start = date(2026, 3, 2)
    assert NATIONAL["handling"].due(start, 30) == next_workday_on_or_after(
        start + timedelta(days=90)
    )


def test_checkpoints_are_reminders_then_overdue_then_escalations() -> None:
    pts = checkpoints(DUE, R, grace_days=7, max_escalations=2)
    assert [d for d, _ in pts] == [
        date(2026, 3, 9),
        date(2026, 3, 13),
        date(2026, 3, 15),
        date(2026, 3, 17),
        date(2026, 3, 24),
        date(2026, 3, 31),
    ]
    assert [n.kind for _, n in pts] == ["reminder"] * 3 + ["overdue", "escalation", "escalation"]


def test_nothing_before_the_first_reminder() -> None:
    notice, nxt = next_notice(DUE, date(2026, 3, 8), R, -1)
    assert notice is None and nxt == date(2026, 3, 9)


def test_each_step_once_in_order_day_by_day() -> None:
    stage, sent = -1, []
    day = date(2026, 3, 1)
    while day <= date(2026, 4, 10):
        notice, _ = next_notice(DUE, day, R, stage, 7, 2)
        if notice:
            sent.append(
                (
                    day,
                    notice.kind,
                    notice.days_before if notice.kind == "reminder" else notice.escalation or None,
                )
            )
            stage = notice.stage
        day += timedelta(days=1)
    assert sent == [
        (date(2026, 3, 9), "reminder", 7),
        (date(2026, 3, 13), "reminder", 3),
        (date(2026, 3, 15), "reminder", 1),
        (date(2026, 3, 17), "overdue", None),
        (date(2026, 3, 24), "escalation", 1),
        (date(2026, 3, 31), "escalation", 2),
    ]


def test_a_jump_sends_only_the_most_urgent_reminder_but_never_skips_a_step_up() -> None:
    notice, nxt = next_notice(DUE, date(2026, 3, 13), R, -1)
    assert notice is not None and notice.days_before == 3 and nxt == date(2026, 3, 15)
    # long past due: the overdue 督办 first, and the escalations after it, one at a time
    notice, nxt = next_notice(DUE, date(2026, 4, 30), R, -1, 7, 2)
    assert notice is not None and notice.kind == "overdue" and nxt == date(2026, 4, 30)
    notice, nxt = next_notice(DUE, date(2026, 4, 30), R, notice.stage, 7, 2)
    assert notice is not None and notice.escalation == 1


def test_already_sent_is_not_sent_again() -> None:
    notice, nxt = next_notice(DUE, date(2026, 3, 13), R, 1)
    assert notice is None and nxt == date(2026, 3, 15)


def test_the_overseer_is_never_the_handling_body_itself() -> None:
    from xinfang_shared import org
    from xinfang_supervision.cases.oversight import overseer

    tree = org.default_tree()
    # a case back at the county petition bureau that supervised it: the city's bureau oversees
    assert overseer(tree, "339922-xfj", "339922-xfj") == "339900-xfj"
    assert overseer(tree, "339922-xfj", None) == "339900-xfj"
    # a county bureau's department: its own government's petition bureau
    assert overseer(tree, "339922-zrzy", "339922-xfj") == "339922-xfj"
    # the top of the tree holding its own case: nobody above
    assert overseer(tree, "339900-xfj", "339900-xfj") is None
