"""The yearly holiday notices (国务院办公厅关于××年部分节假日安排的通知) as data: an administrator
loads a year's days off and make-up working days; deadline computation uses them (a notice
overrides the calendar package and the statutory rules for its year) and the open deadlines they
move are recomputed. Service functions take a session or unit of work and never commit."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from xinfang_shared.db import UnitOfWork
from xinfang_shared.text import MultiLine, SingleLine
from xinfang_shared.timeutil import local_date
from xinfang_shared.workdays import (
    SOURCE_LABELS,
    WorkCalendar,
    YearNotice,
    notice_problems,
    statutory_holidays,
)

from xinfang_supervision import service
from xinfang_supervision.models import cases, deadlines, history, holiday_notices

log = logging.getLogger(__name__)

MIN_YEAR, MAX_YEAR = 2000, 2200
MAX_RANGE_DAYS = 15  # the longest break a notice gives (春节 with 调休 is 8–9 days)


class HolidayRange(BaseModel):
    """One holiday of the notice, as the notice words it: 春节：2月5日至13日放假调休."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[SingleLine, Field(min_length=1, max_length=20, description="节日名称")]
    start: date = Field(description="放假首日")
    end: date = Field(description="放假末日（含）")


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Annotated[
        SingleLine,
        Field(min_length=2, max_length=100, description="通知文号或标题，如 国办发明电〔2026〕7号"),
    ]
    holidays: list[HolidayRange] = Field(min_length=1, max_length=30, description="放假安排")
    workdays: list[date] = Field(default_factory=list, max_length=30, description="调休上班日")
    reason: Annotated[MultiLine, Field(max_length=500)] | None = Field(
        default=None, description="说明（如更正已载入的通知）"
    )


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


async def notices_in_force(*, session: Any) -> dict[int, YearNotice]:
    """Each year's newest loaded notice."""
    newest = select(func.max(holiday_notices.c.id)).group_by(holiday_notices.c.year)
    rows = (
        await session.execute(select(holiday_notices).where(holiday_notices.c.id.in_(newest)))
    ).all()
    return {
        r.year: YearNotice(
            year=r.year,
            days_off=frozenset(date.fromisoformat(d) for d in r.days_off),
            workdays=frozenset(date.fromisoformat(d) for d in r.workdays),
            document=r.document,
        )
        for r in rows
    }


async def calendar_from_db(*, session: Any) -> WorkCalendar:
    return WorkCalendar(notices=await notices_in_force(session=session))


def years_ahead(today: date) -> list[int]:
    """The years a deadline opened today can reach: this one and the next 12 months'."""
    return sorted({today.year, (today + timedelta(days=365)).year})


def calendar_warnings(calendar: WorkCalendar, today: date) -> list[dict[str, Any]]:
    """The years ahead whose days off are only computed from the statutory rules: no notice
    loaded and no package data, so 调休 is unknown."""
    return [
        {
            "year": y,
            "source": calendar.source(y),
            "message": f"{y}年的放假安排通知尚未载入，期限按法定节假日推算（未含调休），"
            "请管理员载入国务院办公厅的放假安排通知",
            "message_en": f"no holiday notice loaded for {y}: deadlines use the statutory "
            "holidays only (no 调休); an administrator should load the notice",
        }
        for y in years_ahead(today)
        if calendar.source(y) == "rules"
    ]


def year_view(calendar: WorkCalendar, year: int, row: Any | None) -> dict[str, Any]:
    source = calendar.source(year)
    view: dict[str, Any] = {
        "year": year,
        "source": source,
        "source_label": SOURCE_LABELS[source],
        "statutory_holidays": [
            {"date": d.isoformat(), "name": n} for d, n in sorted(statutory_holidays(year).items())
        ],
    }
    if row is not None:
        view["notice"] = {
            k: row._mapping[k]
            for k in ("document", "holidays", "workdays", "reason", "loaded_by", "loaded_at")
        }
    return view


async def newest_row(*, session: Any, year: int) -> Any | None:
    return (
        await session.execute(
            select(holiday_notices)
            .where(holiday_notices.c.year == year)
            .order_by(holiday_notices.c.id.desc())
            .limit(1)
        )
    ).first()


async def load_notice(
    *,
    uow: UnitOfWork,
    sc: Any,
    year: int,
    req: NoticeRequest,
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """Validate and store a year's notice (a new row: the audit trail) and recompute the open
    deadlines it moves (the caller puts the calendar in force once committed: see
    :func:`calendar_from_db`). :class:`NoticeInvalid` changes nothing."""
    off = days_off_of(year, req)
    work = set(req.workdays)
    problems = notice_problems(year, off, work)
    if problems:
        raise NoticeInvalid(problems)
    uow.add(
        holiday_notices,
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
    moved = await _recompute(uow=uow, sc=sc, old=old, new=new, year=year, actor=actor, now=now)
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
    return {"year": year, "document": req.document, "deadlines_moved": moved}


async def _recompute(
    *,
    uow: UnitOfWork,
    sc: Any,
    old: WorkCalendar,
    new: WorkCalendar,
    year: int,
    actor: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """Open deadlines this level runs whose period touches ``year``: the due date under the new
    calendar (days added by hand, such as a hearing's, are kept)."""
    session = uow.session
    q = (
        select(
            deadlines,
            cases.c.profile,
            cases.c.extension_days,
            cases.c.status.label("case_status"),
        )
        .join(cases, cases.c.case_id == deadlines.c.case_id)
        .where(deadlines.c.status == "open", deadlines.c.next_check.is_not(None))
        .where(deadlines.c.due_date >= date(year, 1, 1) - timedelta(days=120))
        .where(deadlines.c.start_date <= date(year, 12, 31))
    )
    owned = sc.owned_codes()
    if owned is not None:
        q = q.where(deadlines.c.unit_code.in_(sorted(owned)))
    moved = []
    statuses: dict[str, str] = {}
    today = local_date(now)
    for d in (await session.execute(q)).all():
        limit = sc.profiles[d.profile].limits.get(d.kind)
        if limit is None:
            continue
        extra = int(d.extension_days or 0) if d.kind == "handling" else 0
        added = d.due_date - limit.due(d.start_date, extra, calendar=old)
        due = limit.due(d.start_date, extra, calendar=new) + added
        if due == d.due_date:
            continue
        await session.execute(
            update(deadlines)
            .where(deadlines.c.id == d.id)
            .values(due_date=due, next_check=today)  # the sweep works out the next step
        )
        uow.add(
            history,
            {
                "case_id": d.case_id,
                "at": now,
                "actor": actor,
                "action": "calendar",
                "from_state": None,
                "to_state": None,
                "note": f"依{year}年放假安排通知，{d.label}期限由{d.due_date:%Y年%m月%d日}"
                f"调整为{due:%Y年%m月%d日}",
                "detail": None,
            },
        )
        statuses[d.case_id] = d.case_status
        moved.append(
            {
                "case_id": d.case_id,
                "case_number": d.case_number,
                "kind": d.kind,
                "from": d.due_date.isoformat(),
                "to": due.isoformat(),
            }
        )
    for case_id, status in statuses.items():  # the petitioner's page shows the new dates
        note = f"依{year}年放假安排通知调整期限"
        await service.announce(uow, sc, case_id, status, actor, note, now)
    return moved
