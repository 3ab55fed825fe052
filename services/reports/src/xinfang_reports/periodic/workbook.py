"""The periodic report as one workbook: a sheet per table, each with the report's title, Chinese
headers frozen below it and column widths. Small (a few hundred rows): written in memory.
Pure: the report in, the file's bytes out."""

from __future__ import annotations

import io
from typing import Any

import xlsxwriter

from xinfang_reports.ledger.export import WORKBOOK_OPTIONS, Column, formats, start_sheet, write_rows
from xinfang_reports.periodic.schemas import PeriodicReport
from xinfang_reports.stats.schemas import BreakdownRow

FIGURE_COLUMNS = (
    Column("指标", "label", 26),
    Column("单位", "unit", 8),
    Column("本期", "value", 12, "float"),
    Column("去年同期", "previous", 12, "float"),
    Column("增减", "change", 12, "float"),
    Column("说明", "note", 34),
)


def _breakdown_columns(first: str) -> tuple[Column, ...]:
    return (
        Column(first, "name", 28),
        Column("件次", "items", 10, "int"),
        Column("去年同期", "previous_items", 10, "int"),
        Column("来访批次", "visits", 10, "int"),
        Column("来访人次", "visit_persons", 10, "int"),
        Column("重复信访", "repeat", 10, "int"),
        Column("集体访/联名", "collective", 12, "int"),
        Column("超期", "overdue", 8, "int"),
        Column("督办", "supervised", 8, "int"),
        Column("应办结", "reply_assessable", 10, "int"),
        Column("按期办结", "reply_ontime", 10, "int"),
        Column("按期办结率（%）", "reply_ontime_rate", 16, "float"),
    )


UNIT_COLUMNS = (
    Column("名次", "rank", 6, "int"),
    Column("承办单位", "name", 30),
    Column("件次", "items", 10, "int"),
    Column("应办结", "reply_assessable", 10, "int"),
    Column("按期办结", "reply_ontime", 10, "int"),
    Column("按期办结率（%）", "rate", 16, "float"),
    Column("超期", "overdue", 8, "int"),
    Column("督办", "supervised", 8, "int"),
)
BACKLOG_COLUMNS = (
    Column("积案", "total", 10, "int"),
    Column("化解", "resolved", 10, "int"),
    Column("化解率（%）", "rate", 14, "float"),
)


def _dumped(rows: list[BreakdownRow]) -> list[dict[str, Any]]:
    return [r.model_dump() for r in rows]


def periodic_workbook(report: PeriodicReport) -> bytes:
    """The workbook's bytes: 概况, 按渠道, 按性质, 类别前十, 地点前十, 承办单位, 积案, 逐月走势."""
    sheets: list[tuple[str, tuple[Column, ...], list[dict[str, Any]]]] = [
        ("概况", FIGURE_COLUMNS, [f.model_dump() for f in report.summary]),
        ("按渠道", _breakdown_columns("渠道"), _dumped(report.by_channel)),
        ("按性质", _breakdown_columns("性质"), _dumped(report.by_kind)),
        ("类别前十", _breakdown_columns("类别"), _dumped(report.top_categories)),
        ("地点前十", _breakdown_columns("地点"), _dumped(report.top_places)),
        (
            "承办单位",
            UNIT_COLUMNS,
            [{**u.model_dump(), "rank": n} for n, u in enumerate(report.units, start=1)],
        ),
        ("积案", BACKLOG_COLUMNS, [report.backlog.model_dump()]),
        ("逐月走势", _breakdown_columns("月份"), _dumped(report.by_month)),
    ]
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {**WORKBOOK_OPTIONS, "in_memory": True})
    fmt = formats(wb)
    for name, columns, rows in sheets:
        ws, header = start_sheet(wb, fmt, name, columns, title=f"{report.title}（{name}）")
        ws.write_string(
            0, len(columns) + 1, f"统计期间：{report.period.label}；截至 {report.as_of}"
        )
        write_rows(ws, fmt, header + 1, columns, rows)
    wb.close()
    return out.getvalue()
