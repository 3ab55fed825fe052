"""统计 (figures, 台账, the periodic report), pure: the page's filters → the reports API's query,
and what the API answers → what a person reads (同比 in words, rates with one decimal, no raw
codes). No I/O here; the charts' geometry is :mod:`xinfang_workbench.stats.charts`.

Every filter lives in the page's address (GET forms), so a page can be shared or bookmarked and
each figure and bar links to the 台账 of exactly the items it counts (``measure`` + the filters).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

PRESETS: tuple[tuple[str, str], ...] = (
    ("month", "本月"),
    ("quarter", "本季度"),
    ("year", "本年"),
    ("last_quarter", "上季度"),
    ("custom", "自定义"),
)
ALL_BACKLOG = ("all", "全部积案")  # the 积案 ledger's default: no period
CHANNELS: tuple[tuple[str, str], ...] = (
    ("letter", "来信"),
    ("visit", "来访"),
    ("phone", "来电"),
    ("online", "网上信访"),
    ("leader_mailbox", "领导信箱"),
)
# 问题性质: the routing hop's kind, stored as its Chinese name (the code is the label)
KINDS: tuple[tuple[str, str], ...] = (
    ("申诉求决", "申诉求决"),
    ("建议意见", "建议意见"),
    ("检举控告", "检举控告"),
)
# the reports API's measures (contract §Measures): the drill-down keys a ledger accepts
MEASURES: dict[str, str] = {
    "items": "件次",
    "letters": "来信",
    "visits": "来访批次",
    "visit_persons": "来访人次",
    "phone": "来电",
    "online": "网上信访",
    "leader_mailbox": "领导信箱",
    "first_time": "初信初访",
    "repeat": "重复信访",
    "multi_sent": "一信多投",
    "collective": "集体访/联名",
    "collective_visits": "集体访批次",
    "collective_persons": "集体访人次",
    "skip_level": "越级访",
    "accepted": "受理",
    "not_accepted": "不予受理",
    "accept_assessable": "应受理告知",
    "accept_timely": "按期受理告知",
    "reply_assessable": "应办结",
    "reply_ontime": "按期办结",
    "replied": "已办结",
    "overdue": "超期",
    "supervised": "督办",
    "escalated": "提级",
    "backlog_total": "积案",
    "backlog_resolved": "积案化解",
}
FILTERS = ("channel", "kind", "category", "place", "handling")
SORTS: tuple[tuple[str, str], ...] = (("-received", "登记日期最新在前"), ("received", "最早在前"))
PAGE_SIZE = 50
MAX_PAGE = 100_000
CODE = re.compile(r"[A-Za-z0-9_.\-]{1,40}")
# a typed date is passed on as typed (the API checks it and says what is wrong), within reason
TYPED_DATE = re.compile(r"[0-9\-/.年月日]{1,12}")
URL_NAMES = {"date_from": "from", "date_to": "to"}


def quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def shift_year(d: date, years: int = -1) -> date:
    """The same day ``years`` away (29 February → 28 February), as the API's 去年同期."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def month_end(d: date) -> date:
    first_next = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class StatsQuery:
    """The filters as the page's address has them. ``date_from``/``date_to`` are the custom
    period as typed (``from``/``to`` in the address)."""

    preset: str = "month"
    date_from: str = ""
    date_to: str = ""
    channel: str = ""
    kind: str = ""
    category: str = ""
    place: str = ""
    handling: str = ""
    measure: str = ""
    sort: str = ""
    page: int = 1

    def period_params(self, today: date) -> dict[str, str]:
        """``from``/``to`` for the API. A period that ends today leaves ``to`` out: the API's
        today is the services' clock (it may run ahead of this one in a demo)."""
        if self.preset == "custom":
            return {k: v for k, v in (("from", self.date_from), ("to", self.date_to)) if v}
        if self.preset == "quarter":
            return {"from": quarter_start(today).isoformat()}
        if self.preset == "year":
            return {"from": date(today.year, 1, 1).isoformat()}
        if self.preset == "last_quarter":
            end = quarter_start(today) - timedelta(days=1)
            return {"from": quarter_start(end).isoformat(), "to": end.isoformat()}
        if self.preset == "all":
            return {}
        return {"from": today.replace(day=1).isoformat()}

    def filter_params(self, *, measure: bool = True) -> dict[str, str]:
        found = {name: getattr(self, name) for name in FILTERS}
        if measure:
            found["measure"] = self.measure
        return {k: v for k, v in found.items() if v}

    def api_params(self, today: date, *, measure: bool = True) -> dict[str, str]:
        return {**self.period_params(today), **self.filter_params(measure=measure)}

    def form_values(self) -> dict[str, str]:
        """What the filter form shows (the form fields' names are the address's)."""
        values = {URL_NAMES.get(f.name, f.name): str(getattr(self, f.name)) for f in fields(self)}
        return {k: v for k, v in values.items() if k != "page"}

    def href(self, path: str, **changes: Any) -> str:
        """This query's address on ``path`` with some settings changed (``date_from=`` for
        the address's ``from``). Changing anything but the page goes back to page 1."""
        if "page" not in changes:
            changes["page"] = 1
        q = replace(self, **changes)
        params: list[tuple[str, str]] = [("preset", q.preset)]
        if q.preset == "custom":
            params += [("from", q.date_from), ("to", q.date_to)]
        params += [(name, getattr(q, name)) for name in (*FILTERS, "measure", "sort")]
        if q.page > 1:
            params.append(("page", str(q.page)))
        return path + "?" + urlencode([(k, v) for k, v in params if v])

    def period_href(self, path: str, start: date, end: date, **changes: Any) -> str:
        """The same filters over another period (a month's bar, the previous year's figure)."""
        return self.href(
            path, preset="custom", date_from=start.isoformat(), date_to=end.isoformat(), **changes
        )


def _code(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    return value if CODE.fullmatch(value) else ""


def _typed_date(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    return value if TYPED_DATE.fullmatch(value) else ""


def page_number(raw: str | None) -> int:
    try:
        n = int(raw or "1")
    except ValueError:
        return 1
    return n if 1 <= n <= MAX_PAGE else 1


def stats_query(params: Mapping[str, str], *, default_preset: str = "month") -> StatsQuery:
    """The filters from the page's address; anything unknown is dropped, not sent. Dates typed
    without a preset are a custom period."""
    date_from, date_to = _typed_date(params, "from"), _typed_date(params, "to")
    presets = {k for k, _ in PRESETS} | {ALL_BACKLOG[0]}
    preset = params.get("preset", "")
    if preset not in presets:
        preset = "custom" if (date_from or date_to) else default_preset
    channel = params.get("channel", "")
    kind = params.get("kind", "")
    measure = params.get("measure", "")
    sort = params.get("sort", "")
    return StatsQuery(
        preset=preset,
        date_from=date_from if preset == "custom" else "",
        date_to=date_to if preset == "custom" else "",
        channel=channel if channel in dict(CHANNELS) else "",
        kind=kind if kind in dict(KINDS) else "",
        category=_code(params, "category"),
        place=_code(params, "place"),
        handling=_code(params, "handling"),
        measure=measure if measure in MEASURES else "",
        sort=sort if sort in dict(SORTS) else "",
        page=page_number(params.get("page")),
    )


def form_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """A 422's field messages keyed by the filter form's field (``query.from`` → ``from``)."""
    return {key.split(".")[-1]: text for key, text in errors.items()}


def period_text(period: Mapping[str, Any] | None) -> str:
    """2026年1月1日至2026年3月31日 (the API's label when the dates are missing)."""
    if not period:
        return ""
    start, end = parse_date(period.get("from")), parse_date(period.get("to"))
    if start is None or end is None:
        return str(period.get("label") or "")
    return f"{_zh(start)}至{_zh(end)}"


def _zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


# --- the summary figures --------------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    """One line of the figures table: the number now and a year earlier, the change in words,
    and the 台账 of each number (when the figure has a drill-down measure)."""

    key: str
    label: str
    value_text: str
    previous_text: str
    change_text: str
    change_class: str  # up | down | flat | "" (unknown)
    href: str
    previous_href: str
    note: str


def number_text(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "%":
        return f"{float(value):.1f}%"
    return f"{int(value):,}"


def change_text(value: Any, previous: Any, unit: str, change: Any = None) -> tuple[str, str]:
    """同比 in words and its direction: 增加12件次，增长25.0% · 下降2.1个百分点 · 持平."""
    if value is None or previous is None:
        return "—", ""
    diff = change if change is not None else value - previous
    if unit == "%":
        points = round(float(diff), 1)
        if points == 0:
            return "持平", "flat"
        word = "上升" if points > 0 else "下降"
        return f"{word}{abs(points):.1f}个百分点", "up" if points > 0 else "down"
    diff = int(diff)
    if diff == 0:
        return "持平", "flat"
    word, way = ("增加", "增长") if diff > 0 else ("减少", "下降")
    amount = f"{word}{abs(diff):,}{unit}"
    if not previous:
        return f"{amount}（去年同期为0）", "up"
    return f"{amount}，{way}{abs(diff) / float(previous) * 100:.1f}%", "up" if diff > 0 else "down"


def figure_label(label: str, unit: str) -> str:
    """The figure's name, with its unit when that is not 件次 (the default) nor in the name:
    集体访（批）; 来信 stays 来信."""
    if unit in ("", "%", "件次") or unit in label:
        return label
    return f"{label}（{unit}）"


def figure_rows(summary: Mapping[str, Any], query: StatsQuery) -> list[FigureRow]:
    previous = summary.get("previous") or {}
    prev_start, prev_end = parse_date(previous.get("from")), parse_date(previous.get("to"))
    rows = []
    for f in summary.get("figures") or []:
        unit = str(f.get("unit") or "")
        measure = f.get("measure") if f.get("measure") in MEASURES else None
        text, cls = change_text(f.get("value"), f.get("previous"), unit, f.get("change"))
        href = previous_href = ""
        if measure and f.get("value") is not None:
            href = query.href("/stats/ledger", measure=measure)
        if measure and f.get("previous") is not None and prev_start and prev_end:
            previous_href = query.period_href(
                "/stats/ledger", prev_start, prev_end, measure=measure
            )
        rows.append(
            FigureRow(
                key=str(f.get("key") or ""),
                label=figure_label(str(f.get("label") or ""), unit),
                value_text=number_text(f.get("value"), unit),
                previous_text=number_text(f.get("previous"), unit),
                change_text=text,
                change_class=cls,
                href=href,
                previous_href=previous_href,
                note=str(f.get("note") or ""),
            )
        )
    return rows


# --- ledgers and pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Paging:
    total: int
    page: int
    last: int

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * PAGE_SIZE + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * PAGE_SIZE)


def paging(total: int, page: int) -> Paging:
    last = max(1, -(-total // PAGE_SIZE))
    return Paging(total=total, page=min(page, last), last=last)


def ledger_params(query: StatsQuery, today: date) -> dict[str, Any]:
    params: dict[str, Any] = {
        **query.api_params(today),
        "page": query.page,
        "page_size": PAGE_SIZE,
    }
    if query.sort:
        params["sort"] = query.sort
    return params


def export_params(query: StatsQuery, today: date) -> dict[str, Any]:
    """A ledger's export: the same filters and order, every row (no page)."""
    params: dict[str, Any] = query.api_params(today)
    if query.sort:
        params["sort"] = query.sort
    return params


def ledger_title(query: StatsQuery, base: str = "信访登记台账") -> str:
    """The ledger's heading: which figure's items it lists, if it is a drill-down."""
    return f"{base} · {MEASURES[query.measure]}" if query.measure else base


LEDGER_FIELDS = (
    "case_id",
    "case_number",
    "received_date",
    "channel_label",
    "petitioners",
    "persons",
    "place_name",
    "title",
    "summary",
    "kind",
    "category_name",
    "handling_name",
    "reply_due",
    "status_label",
    "outcome",
    "repeat_match",
    "overdue",
    "supervised",
)
BACKLOG_FIELDS = (
    "case_id",
    "case_number",
    "received_date",
    "title",
    "category_name",
    "place_name",
    "handling_name",
    "leader",
    "backlog_date",
    "backlog_reasons",
    "escalations",
    "supervised",
    "status_label",
    "closed_date",
)


def page_rows(page: Mapping[str, Any] | None, names: Sequence[str]) -> list[dict[str, Any]]:
    """A ledger page's rows with every column the table shows (a missing one is empty)."""
    return [{n: r.get(n) for n in names} for r in rows_of(page)]


def flags(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The ledger row's marks as (text, css class): 重复信访 / 一信多投, 超期, 督办."""
    out: list[tuple[str, str]] = []
    if row.get("repeat_match"):
        out.append((str(row["repeat_match"]), ""))
    if row.get("overdue"):
        out.append(("超期", "late"))
    if row.get("supervised"):
        out.append(("督办", "warn"))
    return out


def filter_summary(
    query: StatsQuery, names: Mapping[str, Mapping[str, str]]
) -> list[tuple[str, str]]:
    """The filters in force as (名称, 值) by name, never a code: 渠道 来访 · 地点 清河镇."""
    labels = {
        "channel": "渠道",
        "kind": "性质",
        "category": "类别",
        "place": "地点",
        "handling": "承办单位",
    }
    out = []
    for name in FILTERS:
        value = getattr(query, name)
        if value:
            out.append((labels[name], names.get(name, {}).get(value) or "所选单位"))
    return out


def rows_of(table: Any) -> list[dict[str, Any]]:
    """A report table's rows (a list, or a breakdown with its ``rows``)."""
    if isinstance(table, Mapping):
        table = table.get("rows")
    return [dict(r) for r in table or [] if isinstance(r, Mapping)]
