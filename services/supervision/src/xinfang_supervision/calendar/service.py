"""The yearly holiday notices (国务院办公厅关于××年部分节假日安排的通知) as data: an administrator
loads a year's days off and make-up working days; deadline computation uses them (a notice
overrides the calendar package and the statutory rules for its year) and the open deadlines they
move are recomputed. Service functions take a session or unit of work and never commit."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.workdays import (
    SOURCE_LABELS,
    WorkCalendar,
    YearNotice,
    notice_problems,
    statutory_holidays,
)

from xinfang_supervision.calendar import store
from xinfang_supervision.calendar.schemas import (
    CalendarRead,
    CalendarWarningRead,
    HolidayNoticeRead,
    MovedDeadlineRead,
    NoticeLoadedRead,
    NoticeRequest,
    StatutoryHolidayRead,
    YearRead,
)
from xinfang_supervision.cases import service as cases
from xinfang_supervision.context import SupervisionContext

log = logging.getLogger(__name__)

MIN_YEAR, MAX_YEAR = 2000, 2200
MAX_RANGE_DAYS = 15  # the longest break a notice gives (春节 with 调休 is 8–9 days)


class NoticeInvalid(ValueError):
    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(en for _, en in problems))
        self.problems = problems


def days_off_of(year: int, req: NoticeRequest) -> set[date]:
    """The days off the notice's ranges name; :class:`NoticeInvalid` for a bad range."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise NoticeInvalid(
            [(f"年份应在{MIN_YEAR}至{MAX_YEAR}之间", f"year must be {MIN_YEAR}..{MAX_YEAR}")]
        )
    problems: list[tuple[str, str]] = []
    off: set[date] = set()
    for h in req.holidays:
        span = (h.end - h.start).days
        if not 0 <= span < MAX_RANGE_DAYS:
            problems.append(
                (
                    f"{h.name}：放假末日应不早于首日，且不超过{MAX_RANGE_DAYS}天",
                    f"{h.name}: end must not precede start, at most {MAX_RANGE_DAYS} days",
                )
            )
            continue
        off |= {h.start + timedelta(days=k) for k in range(span + 1)}
    if problems:
        raise NoticeInvalid(problems)
    return off


async def calendar_from_db(*, session: AsyncSession) -> WorkCalendar:
    return WorkCalendar(notices=await store.notices_in_force(session))


def years_ahead(today: date) -> list[int]:
    """The years a deadline opened today can reach: this one and the next 12 months'."""
    return sorted({today.year, (today + timedelta(days=365)).year})


def calendar_warnings(calendar: WorkCalendar, today: date) -> list[CalendarWarningRead]:
    """The years ahead whose days off are only computed from the statutory rules: no notice
    loaded and no package data, so 调休 is unknown."""
    return [
        CalendarWarningRead(
            year=y,
            source=calendar.source(y),
            message=f"{y}年的放假安排通知尚未载入，期限按法定节假日推算（未含调休），"
            "请管理员载入国务院办公厅的放假安排通知",
            message_en=f"no holiday notice loaded for {y}: deadlines use the statutory "
            "holidays only (no 调休); an administrator should load the notice",
        )
        for y in years_ahead(today)
        if calendar.source(y) == "rules"
    ]


def year_view(calendar: WorkCalendar, year: int, row: Any | None) -> YearRead:
    source = calendar.source(year)
    return YearRead(
        year=year,
        source=source,
        source_label=SOURCE_LABELS[source],
        statutory_holidays=[
            StatutoryHolidayRead(date=d, name=n)
            for d, n in sorted(statutory_holidays(year).items())
        ],
        notice=None
        if row is None
        else HolidayNoticeRead.model_validate(
            {
                k: row._mapping[k]
                for k in ("document", "holidays", "workdays", "reason", "loaded_by", "loaded_at")
            }
        ),
    )


async def calendar_view(
    *, session: AsyncSession, calendar: WorkCalendar, today: date
) -> CalendarRead:
    """Each year with a notice or ahead: where its days off come from, and the warnings."""
    years = sorted({*calendar.notices, *years_ahead(today)})
    return CalendarRead(
        years=[year_view(calendar, y, await store.newest_row(session, y)) for y in years],
        warnings=calendar_warnings(calendar, today),
    )


async def load_notice(
    *,
    uow: UnitOfWork,
    sc: SupervisionContext,
    year: int,
    req: NoticeRequest,
    actor: str,
    now: datetime,
) -> NoticeLoadedRead:
    """Validate and store a year's notice (a new row: the audit trail) and recompute the open
    deadlines it moves (the caller puts the calendar in force once committed: see
    :func:`calendar_from_db`). :class:`NoticeInvalid` changes nothing."""
    off = days_off_of(year, req)
    work = set(req.workdays)
    problems = notice_problems(year, off, work)
    if problems:
        raise NoticeInvalid(problems)
    store.add_notice(
        uow,
        {
            "year": year,
            "document": req.document,
            "holidays": [
                {"name": h.name, "start": h.start.isoformat(), "end": h.end.isoformat()}
                for h in req.holidays
            ],
            "days_off": sorted(d.isoformat() for d in off),
            "workdays": sorted(d.isoformat() for d in work),
            "reason": req.reason,
            "loaded_by": actor,
            "loaded_at": now,
        },
    )
    notice = YearNotice(year, frozenset(off), frozenset(work), req.document)
    old = sc.calendar
    new = WorkCalendar(notices={**old.notices, year: notice}, rules=old.rules)
    moved = await cases.recalendar(
        uow=uow, sc=sc, year=year, previous=old, calendar=new, actor=actor, now=now
    )
    log.info(
        "holiday notice for %d loaded by %s (%s): %d days off, %d make-up working days, "
        "%d open deadlines moved",
        year,
        actor,
        req.document,
        len(off),
        len(work),
        len(moved),
    )
    return NoticeLoadedRead(
        year=year,
        document=req.document,
        deadlines_moved=[MovedDeadlineRead.model_validate(m) for m in moved],
    )
