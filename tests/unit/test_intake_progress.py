"""The petitioner's deadlines (issue #13): a step done after its deadline shows done and late."""

from __future__ import annotations

from datetime import UTC, date, datetime

from xinfang_intake.petitions.progress import deadline_view, stamp_met

ACK = {"kind": "acceptance", "label": "受理告知", "due_date": "2026-03-16", "status": "open"}
HANDLING = {"kind": "handling", "label": "办理答复", "due_date": "2026-05-14", "status": "open"}


def test_a_deadline_met_late_remembers_the_day_and_shows_done_and_late() -> None:
    # 2026-03-19 01:00 UTC is 09:00 on the 19th in China: three days after the due date
    met_at = datetime(2026, 3, 19, 1, 0, tzinfo=UTC)
    first = stamp_met([ACK, HANDLING], None, at=datetime(2026, 3, 2, tzinfo=UTC))
    assert [d.get("met_on") for d in first] == [None, None]
    after = stamp_met([{**ACK, "status": "met"}, HANDLING], first, at=met_at)
    assert after[0]["met_on"] == "2026-03-19"
    # later announcements keep the day it was met, not the day they were sent
    later = stamp_met(
        [{**ACK, "status": "met"}, HANDLING], after, at=datetime(2026, 4, 30, tzinfo=UTC)
    )
    assert later[0]["met_on"] == "2026-03-19"

    view = deadline_view(later[0], today=date(2026, 4, 30))
    assert view.status == "met" and view.late is True and view.days_late == 3
    assert view.status_label == "已完成（超期 3 天）"
    assert view.done_on == "2026-03-19" and view.due_date_label == "2026年03月16日"


def test_on_time_open_overdue_and_cancelled_deadlines() -> None:
    on_time = stamp_met([{**ACK, "status": "met"}], None, at=datetime(2026, 3, 16, 8, tzinfo=UTC))
    assert deadline_view(on_time[0], today=date(2026, 4, 1)).status_label == "已完成"
    assert deadline_view(HANDLING, today=date(2026, 5, 14)).status_label == "进行中"
    overdue = deadline_view(HANDLING, today=date(2026, 5, 16))
    assert overdue.status_label == "已超期 2 天" and overdue.late and overdue.days_late == 2
    cancelled = deadline_view({**HANDLING, "status": "cancelled"}, today=date(2026, 6, 1))
    assert cancelled.status_label == "已撤销" and not cancelled.late
    # a deadline stored before intake kept the day: done, no claim either way
    assert deadline_view({**ACK, "status": "met"}, today=date(2026, 6, 1)).status_label == "已完成"
