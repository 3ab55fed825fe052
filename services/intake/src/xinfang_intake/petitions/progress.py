"""The petitioner's view of a case's deadlines (办理期限): pure functions, no I/O.

Supervision announces each deadline with its due date and whether it is open, met or cancelled
(``case.status_changed``). Intake remembers the day it first heard a deadline was met
(``met_on``), so that a step done after its deadline shows as done *and late*
(已完成（超期 3 天）), and an open one past its due date as overdue.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from xinfang_shared.timeutil import local_date

from xinfang_intake.petitions.schemas import DeadlineRead

STATUS_LABELS = {"open": "进行中", "met": "已完成", "cancelled": "已撤销"}


def stamp_met(
    announced: list[dict[str, Any]], known: list[dict[str, Any]] | None, *, at: datetime
) -> list[dict[str, Any]]:
    """The announced deadlines, each met one with the day it was first known met (kept from
    ``known``, else the local day of ``at``, the status change that announced it)."""
    met_before = {d.get("kind"): d["met_on"] for d in (known or []) if d.get("met_on") is not None}
    out = []
    for d in announced:
        row = {k: v for k, v in d.items() if k != "met_on"}
        if d.get("status") == "met":
            row["met_on"] = met_before.get(d.get("kind")) or local_date(at).isoformat()
        out.append(row)
    return out


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def deadline_view(d: dict[str, Any], *, today: date) -> DeadlineRead:
    """One deadline as the petitioner reads it."""
    status = str(d["status"])
    due = date.fromisoformat(str(d["due_date"]))
    label = STATUS_LABELS.get(status, status)
    met_on = date.fromisoformat(str(d["met_on"])) if d.get("met_on") else None
    late = 0
    if status == "met" and met_on is not None:
        late = (met_on - due).days
        if late > 0:
            label = f"已完成（超期 {late} 天）"
    elif status == "open" and today > due:
        late = (today - due).days
        label = f"已超期 {late} 天"
    return DeadlineRead(
        label=str(d["label"]),
        due_date=due.isoformat(),
        due_date_label=_cn_date(due),
        status=status,
        status_label=label,
        done_on=met_on.isoformat() if met_on else None,
        late=late > 0,
        days_late=max(late, 0),
    )
