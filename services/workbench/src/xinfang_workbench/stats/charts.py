"""The charts' geometry, pure: rows of (name, count, 台账 link) → where each bar, grid line and
label goes in an SVG drawing. ``templates/_charts.html`` only draws what is computed here, so a
chart is server-rendered (no script, nothing to download), prints, and every bar is a link.

Scale: the axis runs from 0 to a round number at or above the largest count (1, 2 or 5 times a
power of ten per step, at most five steps), so bars are proportional to their counts and the
longest one fits the plot. All counts zero: no bars, an axis at 0 alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from xinfang_workbench.stats.forms import month_end, parse_date, shift_year


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    cls: str


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    anchor: str = "start"
    cls: str = ""


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    value_text: str
    text_x: float
    text_y: float
    text_anchor: str
    href: str  # the 台账 of the items the bar counts ("" when they cannot be filtered)
    title: str  # what a screen reader and the tooltip say
    series: str  # css class: cur | prev


@dataclass(frozen=True)
class Swatch:
    x: float
    y: float
    size: float
    series: str


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    desc: str
    width: int
    height: int
    bars: tuple[Bar, ...]
    lines: tuple[Line, ...]
    texts: tuple[Text, ...]
    swatches: tuple[Swatch, ...] = ()
    more: str = ""  # the rows left out, in words (shown under the chart)
    empty: str = ""  # nothing to draw: this instead


@dataclass(frozen=True)
class Row:
    """One bar's datum: its name, its count and the 台账 of what it counts."""

    name: str
    value: int
    href: str = ""


def scale(largest: int) -> tuple[int, list[int]]:
    """The axis's end and its ticks for counts up to ``largest``."""
    if largest <= 0:
        return 1, [0]
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = math.ceil(largest / step) * step
    return top, list(range(0, top + 1, step))


def _r(x: float) -> float:
    return round(x, 1)


def short(name: str, limit: int) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _bar_title(name: str, value: int, unit: str, href: str) -> str:
    return f"{name}：{value:,} {unit}" + ("（查看台账）" if href else "（无法按此筛选）")


def hbar(
    chart_id: str,
    title: str,
    rows: Sequence[Row],
    *,
    unit: str = "件次",
    width: int = 600,
    label_width: int = 150,
    max_rows: int = 10,
    empty: str = "本期没有数据",
) -> Chart:
    """Horizontal bars, one row per name (largest first as given), count at the bar's end."""
    shown, rest = list(rows[:max_rows]), list(rows[max_rows:])
    more = ""
    if rest:
        more = f"另有{len(rest)}项未列出，合计{sum(r.value for r in rest):,} {unit}"
    if not shown:
        return Chart(chart_id, title, empty, width, 0, (), (), (), empty=empty)
    value_width, top, row_h, bar_h, axis_h = 64, 6, 28, 18, 38
    plot = width - label_width - value_width
    bottom = top + len(shown) * row_h
    end, ticks = scale(max(r.value for r in shown))
    bars, texts, lines = [], [], []
    chars = max(4, int((label_width - 12) // 13))
    for i, r in enumerate(shown):
        y = top + i * row_h + (row_h - bar_h) / 2
        w = r.value / end * plot
        texts.append(Text(label_width - 8, _r(y + bar_h / 2 + 4.5), short(r.name, chars), "end"))
        bars.append(
            Bar(
                x=label_width,
                y=_r(y),
                width=_r(w),
                height=bar_h,
                value=r.value,
                value_text=f"{r.value:,}",
                text_x=_r(label_width + w + 5),
                text_y=_r(y + bar_h / 2 + 4.5),
                text_anchor="start",
                href=r.href,
                title=_bar_title(r.name, r.value, unit, r.href),
                series="cur",
            )
        )
    for t in ticks:
        x = _r(label_width + t / end * plot)
        lines.append(Line(x, top, x, bottom, "grid"))
        texts.append(Text(x, bottom + 16, f"{t:,}", "middle", "tick"))
    lines.append(Line(label_width, top, label_width, bottom, "axis"))
    texts.append(Text(label_width + plot, bottom + 33, f"单位：{unit}", "end", "caption"))
    desc = f"{title}：" + "；".join(f"{r.name} {r.value:,} {unit}" for r in shown)
    return Chart(
        chart_id,
        title,
        desc + (f"；{more}" if more else ""),
        width,
        bottom + axis_h,
        tuple(bars),
        tuple(lines),
        tuple(texts),
        more=more,
    )


@dataclass(frozen=True)
class MonthPoint:
    """One month of the trend: this year's count and the same month a year earlier."""

    start: date  # the month's first day (this year)
    end: date  # its last day, or the period's end in the period's last month
    current: int | None  # None: a month after the period (drawn empty)
    previous: int | None


def month_key(row: Mapping[str, Any]) -> date | None:
    """A ``by=month`` row's month from its key (``2026-03`` or a date in it)."""
    key = str(row.get("key") or "")
    found = parse_date(key + "-01" if len(key) == 7 else key)
    return found.replace(day=1) if found else None


def month_points(rows: Sequence[Mapping[str, Any]], end: date) -> list[MonthPoint]:
    """January to December of ``end``'s year; months after ``end`` have no counts; a month the
    API left out (nothing received) counts 0."""
    by_month = {k: r for r in rows if (k := month_key(r)) is not None}
    points = []
    for m in range(1, 13):
        start = date(end.year, m, 1)
        if start > end:
            points.append(MonthPoint(start, month_end(start), None, None))
            continue
        row = by_month.get(start) or {}
        points.append(
            MonthPoint(
                start,
                min(month_end(start), end),
                int(row.get("items") or 0),
                int(row.get("previous_items") or 0),
            )
        )
    return points


def trend(
    chart_id: str,
    points: Sequence[MonthPoint],
    link: Any,
    *,
    unit: str = "件次",
    width: int = 1200,
) -> Chart:
    """Vertical bars by month, this year beside the year before. ``link(start, end)`` is the
    台账 address of the items received in [start, end]."""
    if not points:
        return Chart(chart_id, "", "没有数据", width, 0, (), (), (), empty="没有数据")
    year = points[0].start.year
    title = f"{year}年各月信访件次（与{year - 1}年同月比较）"
    left, right, top, plot_h, bottom_h = 48, 8, 40, 200, 30
    plot_w = width - left - right
    base = top + plot_h
    values = [v for p in points for v in (p.current, p.previous) if v is not None]
    end, ticks = scale(max(values, default=0))
    slot = plot_w / len(points)
    bar_w = min(30.0, slot * 0.34)
    bars, texts, lines = [], [], []
    for t in ticks:
        y = _r(base - t / end * plot_h)
        lines.append(Line(left, y, left + plot_w, y, "grid"))
        texts.append(Text(left - 6, _r(y + 4), f"{t:,}", "end", "tick"))
    for i, p in enumerate(points):
        centre = left + slot * (i + 0.5)
        muted = "" if p.current is not None else "muted"
        texts.append(Text(_r(centre), base + 18, f"{p.start.month}月", "middle", muted))
        pairs = (
            ("cur", p.current, p.start, p.end, centre - bar_w - 2),
            ("prev", p.previous, shift_year(p.start), shift_year(p.end), centre + 2),
        )
        for series, value, start, stop, x in pairs:
            if value is None:
                continue
            h = value / end * plot_h
            href = link(start, stop)
            label = f"{start.year}年{start.month}月"
            bars.append(
                Bar(
                    x=_r(x),
                    y=_r(base - h),
                    width=_r(bar_w),
                    height=_r(h),
                    value=value,
                    value_text=f"{value:,}",
                    text_x=_r(x + bar_w / 2),
                    text_y=_r(base - h - 4),
                    text_anchor="middle",
                    href=href,
                    title=_bar_title(label, value, unit, href),
                    series=series,
                )
            )
    lines.append(Line(left, base, left + plot_w, base, "axis"))
    texts += [
        Text(left, 14, f"单位：{unit}", "start", "caption"),
        Text(left + plot_w - 124, 14, f"{year}年", "start"),
        Text(left + plot_w - 54, 14, f"{year - 1}年", "start"),
    ]
    swatches = (
        Swatch(left + plot_w - 140, 4, 12, "cur"),
        Swatch(left + plot_w - 70, 4, 12, "prev"),
    )
    shown = [p for p in points if p.current is not None]
    desc = f"{title}：" + "；".join(
        f"{p.start.month}月 {p.current:,}（上年 {p.previous:,}）" for p in shown
    )
    return Chart(
        chart_id,
        title,
        desc,
        width,
        base + bottom_h,
        tuple(bars),
        tuple(lines),
        tuple(texts),
        swatches,
    )
