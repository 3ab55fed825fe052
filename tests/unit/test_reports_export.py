"""The reports' files (issue #17), pure: CSV cells that a spreadsheet would run as a formula
stay text, the download's name survives in Chinese (RFC 5987), the constant-memory workbook
has what a person opens it for; the periodic report's title and the units' ranking."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote

import openpyxl
from xinfang_reports.ledger.export import (
    ITEM_COLUMNS,
    LedgerWorkbook,
    content_disposition,
    csv_cell,
    csv_header,
    csv_lines,
)
from xinfang_reports.periodic.schemas import ReportPeriod
from xinfang_reports.periodic.service import rank_units, report_title
from xinfang_reports.stats.schemas import BreakdownRow


def test_csv_cells_that_look_like_formulas_stay_text() -> None:
    for text in ("=1+1", "+86 123", "-5", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell("text", text) == "'" + text
    assert csv_cell("text", "张三") == "张三"
    assert csv_cell("int", -5) == "-5"  # a number is a number
    assert csv_cell("bool", True) == "是" and csv_cell("bool", False) == "否"
    assert csv_cell("date", date(2026, 7, 3)) == "2026-07-03"
    assert csv_cell("text", None) == ""


def test_csv_starts_with_a_bom_and_the_chinese_headers() -> None:
    head = csv_header(ITEM_COLUMNS)
    assert head.startswith(b"\xef\xbb\xbf") and head.decode("utf-8-sig").startswith("编号,日期,")
    line = csv_lines(ITEM_COLUMNS, [{"case_number": "A-1", "matter": "a,b", "overdue": True}])
    assert line.decode().startswith('A-1,,,,,,"a,b",') and line.endswith(b"\xe6\x98\xaf,\r\n")


def test_the_download_name_is_given_in_chinese_and_in_ascii() -> None:
    cd = content_disposition("信访登记台账_2026-07-01_2026-09-30.xlsx", "ledger.xlsx")
    plain, star = cd.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="ledger.xlsx"'
    assert unquote(star) == "信访登记台账_2026-07-01_2026-09-30.xlsx" and star.isascii()


def test_the_constant_memory_workbook(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    book = LedgerWorkbook(str(path), "信访登记台账", ITEM_COLUMNS)
    rows = [
        {
            "case_number": f"N-{n}",
            "received_date": date(2026, 7, 1),
            "summary": "x",
            "matter": "=A1",
        }
        for n in range(3)
    ]
    book.add(rows[:2])
    book.add(rows[2:])
    book.close()
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:P4"
    assert ws["A1"].value == "编号" and ws["A1"].font.bold
    assert ws["B4"].value == datetime(2026, 7, 1) and ws["G4"].value == "=A1"
    assert ws["G4"].data_type == "s"


def test_the_periodic_reports_title() -> None:
    assert report_title("清河县", ReportPeriod.QUARTER, 2026, 3) == (
        "清河县2026年第三季度信访工作统计报告"
    )
    assert report_title("清河县", ReportPeriod.MONTH, 2026, 7) == "清河县2026年7月信访工作统计报告"
    assert report_title("江临市", ReportPeriod.YEAR, 2026, None) == "江临市2026年度信访工作统计报告"


def _row(key: str, items: int, assessable: int, ontime: int, overdue: int) -> BreakdownRow:
    rate = round(100 * ontime / assessable, 1) if assessable else None
    return BreakdownRow(
        key=key,
        name=key,
        items=items,
        previous_items=0,
        visits=0,
        visit_persons=0,
        repeat=0,
        collective=0,
        overdue=overdue,
        supervised=0,
        reply_assessable=assessable,
        reply_ontime=ontime,
        reply_ontime_rate=rate,
    )


def test_units_rank_by_rate_then_fewest_overdue_and_without_a_rate_last() -> None:
    ranked = rank_units(
        [
            _row("a", 5, 4, 2, 0),  # 50 %
            _row("b", 9, 0, 0, 0),  # nothing assessable yet
            _row("c", 3, 2, 2, 3),  # 100 %, 3 overdue
            _row("d", 4, 1, 1, 1),  # 100 %, 1 overdue
            _row("", 2, 0, 0, 0),  # not routed: not a unit
            _row("e", 0, 0, 0, 0),  # no items
        ]
    )
    assert [u.code for u in ranked] == ["d", "c", "a", "b"]
