"""The periodic report (月报 / 季报 / 年报), pure: which report the address asks for, and the
report's tables as a person reads them (names, shares, 同比 in words, rates with one decimal).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from xinfang_workbench.stats.forms import StatsQuery, change_text, number_text, rows_of

REPORT_PERIODS: tuple[tuple[str, str], ...] = (
    ("month", "月报"),
    ("quarter", "季报"),
    ("year", "年报"),
)
QUARTERS = ("第一季度", "第二季度", "第三季度", "第四季度")


@dataclass(frozen=True)
class ReportQuery:
    period: str
    year: int
    number: int

    def api_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"period": self.period, "year": self.year}
        if self.period != "year":
            params["number"] = self.number
        return params

    def href(self, path: str = "/stats/report") -> str:
        return path + "?" + urlencode(self.api_params())

    def form_values(self) -> dict[str, str]:
        values = {"period": self.period, "year": str(self.year)}
        if self.period != "year":
            values[self.period] = str(self.number)
        return values

    def period_query(self, period: Mapping[str, Any]) -> StatsQuery:
        """The report's period as the figures' filters (for the 台账 links of its numbers)."""
        return StatsQuery(
            preset="custom",
            date_from=str(period.get("from") or ""),
            date_to=str(period.get("to") or ""),
        )


def _int_in(raw: str | None, low: int, high: int) -> int | None:
    try:
        n = int(raw or "")
    except ValueError:
        return None
    return n if low <= n <= high else None


def report_query(params: Mapping[str, str], today: date) -> ReportQuery:
    """The report the address asks for; by default this month's (to date)."""
    period = params.get("period", "")
    period = period if period in dict(REPORT_PERIODS) else "month"
    year = _int_in(params.get("year"), 2000, today.year) or today.year
    high = 4 if period == "quarter" else 12
    current = (today.month - 1) // 3 + 1 if period == "quarter" else today.month
    # the form has a month and a quarter list (no script switches one list's choices); an
    # address may say ``number`` itself
    raw = params.get(period) or params.get("number")
    number = _int_in(raw, 1, high) or (current if period != "year" else 1)
    return ReportQuery(period=period, year=year, number=number)


def report_options(today: date) -> dict[str, list[tuple[str, str]]]:
    """The report form's choices: the last ten years, the months, the quarters."""
    return {
        "period": list(REPORT_PERIODS),
        "year": [(str(y), f"{y}年") for y in range(today.year, today.year - 10, -1)],
        "month": [(str(m), f"{m}月") for m in range(1, 13)],
        "quarter": [(str(i + 1), q) for i, q in enumerate(QUARTERS)],
    }


def rate_text(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}%"


@dataclass(frozen=True)
class TableRow:
    """A report table's line: a channel, a kind, a category, a place or a month."""

    name: str
    items: str
    share: str
    previous: str
    change: str
    change_class: str


def breakdown_rows(table: Any) -> list[TableRow]:
    rows = rows_of(table)
    total = sum(int(r.get("items") or 0) for r in rows)
    out = []
    for r in rows:
        items, previous = int(r.get("items") or 0), r.get("previous_items")
        text, cls = change_text(items, previous, "件次")
        out.append(
            TableRow(
                name=str(r.get("name") or r.get("key") or "未注明"),
                items=f"{items:,}",
                share=f"{items / total * 100:.1f}%" if total else "—",
                previous=number_text(previous, "件次"),
                change=text,
                change_class=cls,
            )
        )
    return out


@dataclass(frozen=True)
class UnitRow:
    """A handling body's line in the report's ranking."""

    rank: int
    name: str
    items: int
    reply_assessable: int
    reply_ontime: int
    rate: str
    overdue: int
    supervised: int


def unit_rows(table: Any) -> list[UnitRow]:
    out = []
    for i, r in enumerate(rows_of(table), start=1):
        rate = r.get("rate", r.get("reply_ontime_rate"))
        out.append(
            UnitRow(
                rank=i,
                name=str(r.get("name") or r.get("handling_name") or "未注明"),
                items=int(r.get("items") or 0),
                reply_assessable=int(r.get("reply_assessable") or 0),
                reply_ontime=int(r.get("reply_ontime") or 0),
                rate=rate_text(rate),
                overdue=int(r.get("overdue") or 0),
                supervised=int(r.get("supervised") or 0),
            )
        )
    return out


def backlog_figures(backlog: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """积案, 已化解, 化解率 of the report."""
    b = backlog or {}
    return (
        number_text(b.get("total") or 0, ""),
        number_text(b.get("resolved") or 0, ""),
        rate_text(b.get("rate")),
    )
