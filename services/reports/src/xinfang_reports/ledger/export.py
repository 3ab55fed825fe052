"""Writing ledgers as files: .xlsx (xlsxwriter in constant-memory mode, row by row into a
temporary file) and .csv (UTF-8 with a BOM, so that Excel reads the Chinese, chunk by chunk).

What a person opens: Chinese headers in a bold, frozen first row with an autofilter, column
widths, dates as dates (yyyy-mm-dd), 是/否 for yes and no. A text that a spreadsheet would run
as a formula (starting with = + - @, a tab or a carriage return) stays text: written as a
string in .xlsx, prefixed with ' in .csv (OWASP, CSV injection). Pure apart from the file
the workbook writes."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal
from urllib.parse import quote

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

CellKind = Literal["text", "date", "int", "float", "bool"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, its header row aside
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_TYPE = "text/csv; charset=utf-8"
# never turn a text into a formula, a link or a number on its own
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
}


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    width: float
    kind: CellKind = "text"


ITEM_COLUMNS: tuple[Column, ...] = (
    Column("编号", "case_number", 22),
    Column("日期", "received_date", 12, "date"),
    Column("渠道", "channel_label", 10),
    Column("信访人", "petitioners", 20),
    Column("人数", "persons", 6, "int"),
    Column("地点", "place_name", 16),
    Column("事项", "matter", 50),
    Column("类别", "category_name", 18),
    Column("承办单位", "handling_name", 26),
    Column("期限", "reply_due", 12, "date"),
    Column("状态", "status_label", 16),
    Column("结果", "outcome", 36),
    Column("性质", "kind", 10),
    Column("重复", "repeat_match", 10),
    Column("超期", "overdue", 6, "bool"),
    Column("督办", "supervised", 6, "bool"),
)
BACKLOG_COLUMNS: tuple[Column, ...] = (
    Column("编号", "case_number", 22),
    Column("登记日期", "received_date", 12, "date"),
    Column("事项", "title", 40),
    Column("类别", "category_name", 18),
    Column("地点", "place_name", 16),
    Column("责任单位", "handling_name", 26),
    Column("包案领导", "leader", 12),
    Column("列入积案日期", "backlog_date", 14, "date"),
    Column("积案原因", "backlog_reasons", 36),
    Column("提级次数", "escalations", 10, "int"),
    Column("督办", "supervised", 6, "bool"),
    Column("状态", "status_label", 16),
    Column("化解日期", "closed_date", 12, "date"),
)


def content_disposition(filename: str, fallback: str) -> str:
    """``attachment`` with the Chinese name as RFC 5987 ``filename*`` and an ASCII one for
    clients that read only ``filename``."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# --- xlsx ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Formats:
    title: Format
    header: Format
    date: Format
    wrap: Format


def formats(wb: xlsxwriter.Workbook) -> Formats:
    return Formats(
        title=wb.add_format({"bold": True, "font_size": 14}),
        header=wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center"}),
        date=wb.add_format({"num_format": "yyyy-mm-dd"}),
        wrap=wb.add_format({"text_wrap": True, "valign": "top"}),
    )


def write_cell(ws: Worksheet, fmt: Formats, r: int, c: int, kind: CellKind, value: Any) -> None:
    """One cell, typed: a date as a date, a number as a number, a text always as a string
    (never a formula, whatever it starts with)."""
    if value is None:
        return
    if kind == "date" and isinstance(value, date):
        ws.write_datetime(r, c, datetime.combine(value, time()), fmt.date)
    elif kind in ("int", "float") and isinstance(value, (int, float)):
        ws.write_number(r, c, value)
    elif kind == "bool":
        ws.write_string(r, c, "是" if value else "否")
    else:
        ws.write_string(r, c, str(value))


def start_sheet(
    wb: xlsxwriter.Workbook,
    fmt: Formats,
    name: str,
    columns: Sequence[Column],
    *,
    title: str | None = None,
) -> tuple[Worksheet, int]:
    """A worksheet with the widths, the (title and) header row, the panes frozen below the
    header; the header's row index."""
    ws = wb.add_worksheet(name)
    for c, col in enumerate(columns):
        ws.set_column(c, c, col.width)
    header = 0
    if title:
        ws.write_string(0, 0, title, fmt.title)
        header = 1
    for c, col in enumerate(columns):
        ws.write_string(header, c, col.header, fmt.header)
    ws.freeze_panes(header + 1, 0)
    return ws, header


def write_rows(
    ws: Worksheet,
    fmt: Formats,
    first: int,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
) -> int:
    """Write ``rows`` from row index ``first`` on; the index after the last written."""
    r = first
    for row in rows:
        for c, col in enumerate(columns):
            write_cell(ws, fmt, r, c, col.kind, row.get(col.field))
        r += 1
    return r


class LedgerWorkbook:
    """One sheet of a ledger written row by row to ``path`` (constant memory: each row goes to
    disk as it is written). Not thread-safe; calls may come from different threads in turn."""

    def __init__(self, path: str, sheet: str, columns: Sequence[Column]) -> None:
        self.wb = xlsxwriter.Workbook(path, {**WORKBOOK_OPTIONS, "constant_memory": True})
        self.fmt = formats(self.wb)
        self.columns = columns
        self.ws, header = start_sheet(self.wb, self.fmt, sheet, columns)
        self.next = header + 1

    def add(self, rows: Iterable[dict[str, Any]]) -> None:
        self.next = write_rows(self.ws, self.fmt, self.next, self.columns, rows)

    def close(self) -> None:
        self.ws.autofilter(0, 0, max(self.next - 1, 0), len(self.columns) - 1)
        self.wb.close()


# --- csv -------------------------------------------------------------------------------------


def csv_text(value: str) -> str:
    """A text as a CSV cell: ' before what a spreadsheet would take for a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_bool(value: Any) -> str:
    return "" if value is None else ("是" if value else "否")


def _csv_plain(value: Any) -> str:
    return "" if value is None else str(value)


def _csv_date(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else _csv_text_or_blank(value)


def _csv_text_or_blank(value: Any) -> str:
    return "" if value is None else csv_text(str(value))


_CSV_CELL = {
    "bool": _csv_bool,
    "int": _csv_plain,
    "float": _csv_plain,
    "date": _csv_date,
    "text": _csv_text_or_blank,
}


def csv_cell(kind: CellKind, value: Any) -> str:
    return _CSV_CELL[kind](value)


def csv_lines(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    cells = [(col.field, _CSV_CELL[col.kind]) for col in columns]
    writer.writerows([cell(row.get(field)) for field, cell in cells] for row in rows)
    return buf.getvalue().encode("utf-8")


def csv_header(columns: Sequence[Column]) -> bytes:
    """The BOM and the header line."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([col.header for col in columns])
    return (BOM + buf.getvalue()).encode("utf-8")
