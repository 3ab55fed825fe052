"""The measures (统计指标) of the office's statistics, as data: each key with its Chinese label,
its unit and the condition on an item (a row of ``rpt_items``) that makes it count.

Every count is over the items (件次) received in the period (``received_date`` in [from, to]:
a cohort), counted as they stand at the day of counting (``as_of``, 截至统计时), except the
backlog measures, which are not a cohort. ``previous`` is the same period one year earlier.

========================  ==================  =====  ==========================================
key                       label               unit   counts the items where
========================  ==================  =====  ==========================================
items                     件次                件次   (all)
letters                   来信                件次   channel = letter
visits                    来访批次            批     channel = visit
visit_persons             来访人次            人次   SUM(persons) of the visits
phone                     来电                件次   channel = phone
online                    网上信访            件次   channel = online
leader_mailbox            领导信箱            件次   channel = leader_mailbox
first_time                初信初访            件次   repeat_match is null
repeat                    重复信访            件次   repeat_match = 重复信访
multi_sent                一信多投            件次   repeat_match = 一信多投
collective                集体访/联名         件次   collective
collective_visits         集体访批次          批     collective and channel = visit
collective_persons        集体访人次          人次   SUM(persons) of the collective visits
skip_level                越级访              件次   skip_level
accepted                  受理                件次   decision = accepted
not_accepted              不予受理            件次   decision = not_accepted
accept_assessable         应受理告知          件次   decided_date not null, or accept_due < as_of
accept_timely             按期受理告知        件次   decided_date <= accept_due
reply_assessable          应办结              件次   decision = accepted and (replied_date not
                                                     null, or reply_due < as_of)
reply_ontime              按期办结            件次   decision = accepted and replied_date <=
                                                     reply_due
replied                   已办结              件次   replied_at not null
overdue                   超期                件次   overdue (some deadline was missed)
supervised                督办                件次   supervised (a 督办 was issued)
escalated                 提级                件次   escalations > 0
backlog_total             积案                件次   backlog and backlog_date <= to and
                          (not a cohort)             (closed_date null or closed_date >= from)
backlog_resolved          化解                件次   backlog_total and closed_date in [from, to]
========================  ==================  =====  ==========================================

Rates (%, one decimal, half up; null when the denominator is 0):
accept_timely_rate 及时受理率 = accept_timely / accept_assessable;
reply_ontime_rate 按期办结率（按期答复率） = reply_ontime / reply_assessable;
repeat_rate 重复信访率 = repeat / items; backlog_rate 化解率 = backlog_resolved / backlog_total.
rated 参评, satisfied 满意, rated_rate 参评率, satisfied_rate 满意率: null, "信访人评价上线后统计"
(no ratings exist yet).

A null date never satisfies a comparison: an item whose deadline is not known is not timely.
Pure definitions: the predicates are SQLAlchemy expressions over :data:`models.items`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_, true

from xinfang_reports.models import items

Unit = Literal["件次", "批", "人次", "%"]
i = items.c

CHANNEL_LABELS: dict[str, str] = {
    "letter": "来信",
    "visit": "来访",
    "phone": "来电",
    "online": "网上信访",
    "leader_mailbox": "领导信箱",
}
KINDS = ("申诉求决", "建议意见", "检举控告")
REPEAT = "重复信访"
MULTI_SENT = "一信多投"
RATINGS_NOTE = "信访人评价上线后统计"


@dataclass(frozen=True)
class Window:
    """What a condition may depend on: the period [start, end] and the day of counting."""

    start: date
    end: date
    as_of: date


Condition = Callable[[Window], ColumnElement[bool]]


def _always(expr: ColumnElement[bool]) -> Condition:
    return lambda _w: expr


@dataclass(frozen=True)
class Measure:
    """A count of items (or a sum of their ``persons``) meeting ``where``."""

    key: str
    label: str
    unit: Unit
    where: Condition
    sums_persons: bool = False  # 人次: SUM(persons) of the items instead of their number
    cohort: bool = True  # over the items received in the period; False: the backlog's rule


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    numerator: str
    denominator: str
    unit: Unit = "%"


@dataclass(frozen=True)
class Pending:
    """A figure that cannot be counted yet: always null, with why."""

    key: str
    label: str
    unit: Unit
    note: str = RATINGS_NOTE


def _channel(code: str) -> Condition:
    return _always(i.channel == code)


def _accepted() -> ColumnElement[bool]:
    return i.decision == "accepted"


def _backlog_total(w: Window) -> ColumnElement[bool]:
    return and_(
        i.backlog == true(),  # "= true", not "IS true": the backlog index serves it
        i.backlog_date <= w.end,
        or_(i.closed_date.is_(None), i.closed_date >= w.start),
    )


def _backlog_resolved(w: Window) -> ColumnElement[bool]:
    return and_(_backlog_total(w), i.closed_date >= w.start, i.closed_date <= w.end)


_VISIT = i.channel == "visit"

MEASURES: dict[str, Measure] = {
    m.key: m
    for m in (
        Measure("items", "件次", "件次", _always(true())),
        Measure("letters", "来信", "件次", _channel("letter")),
        Measure("visits", "来访批次", "批", _channel("visit")),
        Measure("visit_persons", "来访人次", "人次", _channel("visit"), sums_persons=True),
        Measure("phone", "来电", "件次", _channel("phone")),
        Measure("online", "网上信访", "件次", _channel("online")),
        Measure("leader_mailbox", "领导信箱", "件次", _channel("leader_mailbox")),
        Measure("first_time", "初信初访", "件次", _always(i.repeat_match.is_(None))),
        Measure("repeat", "重复信访", "件次", _always(i.repeat_match == REPEAT)),
        Measure("multi_sent", "一信多投", "件次", _always(i.repeat_match == MULTI_SENT)),
        Measure("collective", "集体访/联名", "件次", _always(i.collective.is_(True))),
        Measure(
            "collective_visits", "集体访批次", "批", _always(and_(i.collective.is_(True), _VISIT))
        ),
        Measure(
            "collective_persons",
            "集体访人次",
            "人次",
            _always(and_(i.collective.is_(True), _VISIT)),
            sums_persons=True,
        ),
        Measure("skip_level", "越级访", "件次", _always(i.skip_level.is_(True))),
        Measure("accepted", "受理", "件次", _always(_accepted())),
        Measure("not_accepted", "不予受理", "件次", _always(i.decision == "not_accepted")),
        Measure(
            "accept_assessable",
            "应受理告知",
            "件次",
            lambda w: or_(i.decided_date.is_not(None), i.accept_due < w.as_of),
        ),
        Measure("accept_timely", "按期受理告知", "件次", _always(i.decided_date <= i.accept_due)),
        Measure(
            "reply_assessable",
            "应办结",
            "件次",
            lambda w: and_(_accepted(), or_(i.replied_date.is_not(None), i.reply_due < w.as_of)),
        ),
        Measure(
            "reply_ontime",
            "按期办结",
            "件次",
            _always(and_(_accepted(), i.replied_date <= i.reply_due)),
        ),
        Measure("replied", "已办结", "件次", _always(i.replied_at.is_not(None))),
        Measure("overdue", "超期", "件次", _always(i.overdue.is_(True))),
        Measure("supervised", "督办", "件次", _always(i.supervised.is_(True))),
        Measure("escalated", "提级", "件次", _always(i.escalations > 0)),
        Measure("backlog_total", "积案", "件次", _backlog_total, cohort=False),
        Measure("backlog_resolved", "化解", "件次", _backlog_resolved, cohort=False),
    )
}

RATES: dict[str, Rate] = {
    r.key: r
    for r in (
        Rate("accept_timely_rate", "及时受理率", "accept_timely", "accept_assessable"),
        Rate("reply_ontime_rate", "按期办结率（按期答复率）", "reply_ontime", "reply_assessable"),
        Rate("repeat_rate", "重复信访率", "repeat", "items"),
        Rate("backlog_rate", "化解率", "backlog_resolved", "backlog_total"),
    )
}

PENDING: dict[str, Pending] = {
    p.key: p
    for p in (
        Pending("rated", "参评", "件次"),
        Pending("satisfied", "满意", "件次"),
        Pending("rated_rate", "参评率", "%"),
        Pending("satisfied_rate", "满意率", "%"),
    )
}

# the summary's figures, in the order a report lists them
FIGURES: tuple[str, ...] = (
    "items",
    "letters",
    "visits",
    "visit_persons",
    "phone",
    "online",
    "leader_mailbox",
    "first_time",
    "repeat",
    "multi_sent",
    "repeat_rate",
    "collective",
    "collective_visits",
    "collective_persons",
    "skip_level",
    "accepted",
    "not_accepted",
    "accept_assessable",
    "accept_timely",
    "accept_timely_rate",
    "reply_assessable",
    "reply_ontime",
    "replied",
    "reply_ontime_rate",
    "overdue",
    "supervised",
    "escalated",
    "backlog_total",
    "backlog_resolved",
    "backlog_rate",
    "rated",
    "satisfied",
    "rated_rate",
    "satisfied_rate",
)

COHORT: tuple[Measure, ...] = tuple(m for m in MEASURES.values() if m.cohort)
BACKLOG: tuple[Measure, ...] = tuple(m for m in MEASURES.values() if not m.cohort)
# what every breakdown row carries
ROW_MEASURES: tuple[str, ...] = (
    "items",
    "visits",
    "visit_persons",
    "repeat",
    "collective",
    "overdue",
    "supervised",
    "reply_assessable",
    "reply_ontime",
)


def percent(numerator: int | None, denominator: int | None) -> float | None:
    """numerator / denominator in percent, one decimal rounded half up; None when it has no
    meaning (a denominator of 0, or a part unknown)."""
    if numerator is None or not denominator:
        return None
    value = Decimal(100 * numerator) / Decimal(denominator)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def difference(value: float | int | None, previous: float | int | None) -> float | int | None:
    """value - previous (a rate's in percentage points, one decimal); None if either is."""
    if value is None or previous is None:
        return None
    if isinstance(value, float) or isinstance(previous, float):
        return float(Decimal(str(value)) - Decimal(str(previous)))
    return value - previous
