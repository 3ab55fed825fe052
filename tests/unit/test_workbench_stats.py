"""The workbench's 统计, pure: the filters in the address → the reports API's query, the
summary figures → the table's rows with 同比 in words, the charts' geometry (bars proportional,
the longest one inside the plot, zero counts, every bar a link with its filter), the periodic
report's choices and tables. Fixtures are shaped as the issue #17 contract's JSON."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from xinfang_shared.org import default_tree
from xinfang_workbench.pages import Pages
from xinfang_workbench.stats import charts, report
from xinfang_workbench.stats import forms as sf

TODAY = date(2026, 5, 20)


def q(**params: str) -> sf.StatsQuery:
    return sf.stats_query(params)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# --- filters → the API's query ------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("month", {"from": "2026-05-01"}),
        ("quarter", {"from": "2026-04-01"}),
        ("year", {"from": "2026-01-01"}),
        ("last_quarter", {"from": "2026-01-01", "to": "2026-03-31"}),
        ("all", {}),
    ],
)
def test_each_preset_is_a_period_ending_today_by_the_services_clock(
    preset: str, expected: dict[str, str]
) -> None:
    assert q(preset=preset).period_params(TODAY) == expected


def test_last_quarter_in_january_is_the_previous_years_fourth() -> None:
    assert q(preset="last_quarter").period_params(date(2026, 1, 5)) == {
        "from": "2025-10-01",
        "to": "2025-12-31",
    }


def test_typed_dates_are_a_custom_period_passed_on_for_the_api_to_check() -> None:
    query = q(**{"from": "2026-05-10", "to": "2026-05-01"})
    assert query.preset == "custom"
    assert query.period_params(TODAY) == {"from": "2026-05-10", "to": "2026-05-01"}
    # a preset wins over dates left in the form
    assert q(preset="month", **{"from": "2026-01-01"}).period_params(TODAY) == {
        "from": "2026-05-01"
    }


def test_the_filters_go_to_the_api_and_nonsense_is_dropped_not_sent() -> None:
    query = q(
        preset="year",
        channel="visit",
        kind="检举控告",
        category="land_requisition",
        place="339922101",
        handling="339922-zrzy",
        measure="visits",
        sort="-received",
    )
    assert query.api_params(TODAY) == {
        "from": "2026-01-01",
        "channel": "visit",
        "kind": "检举控告",
        "category": "land_requisition",
        "place": "339922101",
        "handling": "339922-zrzy",
        "measure": "visits",
    }
    assert "measure" not in query.api_params(TODAY, measure=False)
    junk = q(channel="fax", kind="x", category="a b", place="<x>", measure="drop", page="-1")
    assert junk.api_params(TODAY) == {"from": "2026-05-01"} and junk.page == 1
    assert q(**{"from": "2026-01-01'; drop"}).date_from == ""


def test_an_address_made_from_a_query_reads_back_as_the_same_query() -> None:
    query = q(preset="custom", channel="letter", place="339922101", sort="received", page="3")
    query = sf.stats_query({**query_of(query.href("/stats/ledger", page=3))})
    assert query == q(
        preset="custom", channel="letter", place="339922101", sort="received", page="3"
    )
    # a changed filter goes back to the first page
    assert "page=" not in query.href("/stats/ledger", channel="visit")


def test_a_ledger_asks_for_its_page_and_an_export_for_every_row() -> None:
    query = q(preset="month", measure="overdue", page="2", sort="received")
    assert sf.ledger_params(query, TODAY) == {
        "from": "2026-05-01",
        "measure": "overdue",
        "page": 2,
        "page_size": 50,
        "sort": "received",
    }
    assert sf.export_params(query, TODAY) == {
        "from": "2026-05-01",
        "measure": "overdue",
        "sort": "received",
    }
    assert sf.ledger_title(query) == "信访登记台账 · 超期"


def test_paging_counts_rows_and_pages() -> None:
    p = sf.paging(137, 3)
    assert (p.last, p.first_row, p.last_row) == (3, 101, 137)
    assert sf.paging(0, 5).last == 1 and sf.paging(0, 1).first_row == 0


def test_a_422s_field_messages_are_keyed_by_the_forms_fields() -> None:
    assert sf.form_errors({"to": "截止日期不能早于起始日期", "query.from": "日期无效"}) == {
        "to": "截止日期不能早于起始日期",
        "from": "日期无效",
    }


# --- figures → the table's rows --------------------------------------------------------------


def figure(
    key: str, label: str, unit: str, value: Any, previous: Any, **extra: Any
) -> dict[str, Any]:
    change = None if value is None or previous is None else value - previous
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "previous": previous,
        "change": change,
        "numerator": None,
        "denominator": None,
        "measure": extra.get("measure"),
        "note": extra.get("note"),
    }


SUMMARY = {
    "period": {"from": "2026-04-01", "to": "2026-05-20", "label": "本季度"},
    "previous": {"from": "2025-04-01", "to": "2025-05-20", "label": "去年同期"},
    "as_of": "2026-05-20",
    "scope": {"code": "339922", "name": "清河县"},
    "figures": [
        figure("items", "件次", "件次", 120, 100, measure="items"),
        figure("visits", "来访批次", "批", 40, 50, measure="visits"),
        figure(
            "collective_persons", "集体访人次", "人次", 1234, 1234, measure="collective_persons"
        ),
        figure("leader_mailbox", "领导信箱", "件次", 5, 0, measure="leader_mailbox"),
        figure("reply_ontime_rate", "按期办结率（按期答复率）", "%", 83.3, 85.4),
        figure("rated", "参评", "件次", None, None, note="信访人评价上线后统计"),
    ],
}


def test_figures_read_with_their_change_in_words() -> None:
    rows = {r.key: r for r in sf.figure_rows(SUMMARY, q(preset="quarter"))}
    assert (rows["items"].value_text, rows["items"].previous_text) == ("120", "100")
    assert rows["items"].change_text == "增加20件次，增长20.0%"
    assert rows["items"].change_class == "up"
    assert rows["visits"].change_text == "减少10批，下降20.0%"
    assert rows["visits"].change_class == "down"
    assert rows["collective_persons"].value_text == "1,234"
    assert rows["collective_persons"].change_text == "持平"
    assert rows["leader_mailbox"].change_text == "增加5件次（去年同期为0）"
    assert rows["reply_ontime_rate"].value_text == "83.3%"
    assert rows["reply_ontime_rate"].change_text == "下降2.1个百分点"
    assert rows["rated"].value_text == "—" and rows["rated"].change_text == "—"
    assert rows["rated"].note == "信访人评价上线后统计" and rows["rated"].href == ""


def test_a_figure_names_its_unit_only_when_not_the_usual_one() -> None:
    assert sf.figure_label("来信", "件次") == "来信"
    assert sf.figure_label("集体访批次", "批") == "集体访批次"
    assert sf.figure_label("来访", "人次") == "来访（人次）"
    assert sf.figure_label("重复信访率", "%") == "重复信访率"


def test_each_count_links_to_the_ledger_of_its_measure_with_the_same_filters() -> None:
    rows = {r.key: r for r in sf.figure_rows(SUMMARY, q(preset="quarter", channel="visit"))}
    assert query_of(rows["visits"].href) == {
        "preset": "quarter",
        "channel": "visit",
        "measure": "visits",
    }
    # last year's number: the same measure and filters over the previous period
    assert query_of(rows["visits"].previous_href) == {
        "preset": "custom",
        "from": "2025-04-01",
        "to": "2025-05-20",
        "channel": "visit",
        "measure": "visits",
    }
    assert rows["reply_ontime_rate"].href == ""  # a rate has no drill-down measure here


def test_change_text_for_a_rate_of_none_and_rounding() -> None:
    assert sf.change_text(50.0, None, "%") == ("—", "")
    assert sf.change_text(50.04, 50.0, "%") == ("持平", "flat")
    assert sf.change_text(3, 4, "件次") == ("减少1件次，下降25.0%", "down")


def test_the_period_reads_in_chinese() -> None:
    assert sf.period_text(SUMMARY["period"]) == "2026年4月1日至2026年5月20日"
    assert sf.period_text({"from": None, "to": None, "label": "本月"}) == "本月"


def test_ledger_rows_carry_every_column_and_their_marks() -> None:
    rows = sf.page_rows(
        {"total": 1, "rows": [{"case_number": "x", "overdue": True}]}, sf.LEDGER_FIELDS
    )
    assert set(rows[0]) == set(sf.LEDGER_FIELDS) and rows[0]["petitioners"] is None
    marks = sf.flags({"repeat_match": "重复信访", "overdue": True, "supervised": True})
    assert marks == [("重复信访", ""), ("超期", "late"), ("督办", "warn")]
    assert sf.flags({"repeat_match": None, "overdue": False, "supervised": False}) == []


# --- the charts' geometry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("largest", "end", "ticks"),
    [
        (0, 1, [0]),
        (1, 1, [0, 1]),
        (3, 3, [0, 1, 2, 3]),
        (7, 8, [0, 2, 4, 6, 8]),
        (180, 200, [0, 50, 100, 150, 200]),
        (1234, 1500, [0, 500, 1000, 1500]),
    ],
)
def test_the_axis_ends_at_a_round_number_at_or_above_the_largest(
    largest: int, end: int, ticks: list[int]
) -> None:
    assert charts.scale(largest) == (end, ticks)


def rows(*values: int) -> list[charts.Row]:
    return [charts.Row(f"类别{i}", v, f"/stats/ledger?category=c{i}") for i, v in enumerate(values)]


def test_bars_are_proportional_and_the_longest_fits_the_plot() -> None:
    c = charts.hbar("c", "按问题类别", rows(180, 90, 45, 0), width=600, label_width=150)
    plot = 600 - 150 - 64
    widths = [b.width for b in c.bars]
    assert widths[0] / 180 == pytest.approx(widths[1] / 90, rel=0.01)
    assert widths[1] == pytest.approx(2 * widths[2], rel=0.01)
    assert widths[3] == 0
    assert max(b.x + b.width for b in c.bars) <= 150 + plot  # inside the plot
    assert all(b.text_x + 40 <= c.width for b in c.bars)  # room for the count after the bar
    assert [b.value_text for b in c.bars] == ["180", "90", "45", "0"]
    assert c.texts[-1].text == "单位：件次"


def test_all_zero_draws_no_bar_and_divides_by_nothing() -> None:
    c = charts.hbar("c", "按发生地", rows(0, 0))
    assert [b.width for b in c.bars] == [0, 0]
    assert [t.text for t in c.texts if t.cls == "tick"] == ["0"]
    empty = charts.hbar("c", "按发生地", [])
    assert empty.empty == "本期没有数据" and empty.bars == ()


def test_each_bar_is_a_link_with_its_filter_and_says_what_it_counts() -> None:
    query = q(preset="year", channel="visit")
    bars = charts.hbar(
        "c",
        "按问题类别",
        [
            charts.Row(
                "土地征收补偿", 12, query.href("/stats/ledger", category="land_requisition")
            ),
            charts.Row("未注明地点", 3),
        ],
    ).bars
    assert query_of(bars[0].href) == {
        "preset": "year",
        "channel": "visit",
        "category": "land_requisition",
    }
    assert bars[0].title == "土地征收补偿：12 件次（查看台账）"
    assert bars[1].href == "" and bars[1].title.endswith("（无法按此筛选）")


def test_more_than_ten_rows_show_ten_and_count_the_rest() -> None:
    c = charts.hbar("c", "按问题类别", rows(*range(20, 8, -1)))
    assert len(c.bars) == 10 and c.more == "另有2项未列出，合计19 件次"


def test_long_names_are_shortened_in_the_drawing_but_not_in_the_title() -> None:
    c = charts.hbar(
        "c", "按承办单位", [charts.Row("江临市生态环境局清河县分局", 5, "/x")], label_width=150
    )
    assert c.texts[0].text.endswith("…") and len(c.texts[0].text) <= 10
    assert c.bars[0].title.startswith("江临市生态环境局清河县分局：")


def month_rows() -> list[dict[str, Any]]:
    return [
        {"key": "2024-01", "name": "1月", "items": 10, "previous_items": 8},
        {"key": "2024-03", "name": "3月", "items": 30, "previous_items": 0},
    ]


def test_the_trend_is_january_to_december_missing_months_zero_and_later_ones_empty() -> None:
    points = charts.month_points(month_rows(), date(2024, 3, 15))
    assert len(points) == 12
    assert [(p.current, p.previous) for p in points[:4]] == [(10, 8), (0, 0), (30, 0), (None, None)]
    assert points[2].end == date(2024, 3, 15)  # the period's last month ends with the period
    assert points[1].end == date(2024, 2, 29)


def test_trend_bars_link_to_their_month_this_year_and_last() -> None:
    query = q(preset="year", kind="建议意见")
    points = charts.month_points(month_rows(), date(2024, 3, 15))
    c = charts.trend("t", points, lambda s, e: query.period_href("/stats/ledger", s, e))
    assert c.title == "2024年各月信访件次（与2023年同月比较）"
    by_series = {(b.series, query_of(b.href)["from"]): b for b in c.bars}
    feb_prev = by_series[("prev", "2023-02-01")]
    assert query_of(feb_prev.href) == {
        "preset": "custom",
        "from": "2023-02-01",
        "to": "2023-02-28",  # 29 February a year earlier is the 28th
        "kind": "建议意见",
    }
    assert query_of(by_series[("cur", "2024-03-01")].href)["to"] == "2024-03-15"
    assert len(c.bars) == 6  # three months, two bars each; no bar after the period
    tallest = max(c.bars, key=lambda b: b.value)
    assert tallest.value == 30 and tallest.y >= 40  # inside the plot, under its top
    assert {b.height for b in c.bars if b.value == 0} == {0}
    assert by_series[("cur", "2024-01-01")].height == pytest.approx(tallest.height / 3, abs=0.2)


def test_the_chart_macro_draws_links_with_titles_and_no_style_attribute() -> None:
    query = q(preset="month")
    c = charts.hbar(
        "by-category",
        "按问题类别",
        [
            charts.Row(
                "土地征收补偿", 12, query.href("/stats/ledger", category="land_requisition")
            ),
            charts.Row("未注明地点", 0),
        ],
    )
    env = Pages(default_tree()).env
    html = env.from_string('{% import "_charts.html" as ch %}{{ ch.chart(c) }}').render(c=c)
    assert (
        '<a href="/stats/ledger?preset=month&amp;category=land_requisition" aria-label="土地征收补偿：12 件次（查看台账）">'
        in html
    )
    assert "<title>土地征收补偿：12 件次（查看台账）</title>" in html
    assert 'aria-labelledby="by-category-t"' in html and '<desc id="by-category-d">' in html
    assert "style=" not in html
    assert len(re.findall(r"<a href=", html)) == 1  # the bar that cannot be filtered is no link


# --- the periodic report ----------------------------------------------------------------------


def test_the_report_asked_for_and_its_defaults() -> None:
    assert report.report_query({}, TODAY) == report.ReportQuery("month", 2026, 5)
    rq = report.report_query(
        {"period": "quarter", "year": "2025", "quarter": "4", "month": "2"}, TODAY
    )
    assert rq.api_params() == {"period": "quarter", "year": 2025, "number": 4}
    assert rq.href("/stats/report.xlsx") == "/stats/report.xlsx?period=quarter&year=2025&number=4"
    assert report.report_query({"period": "year", "year": "2024"}, TODAY).api_params() == {
        "period": "year",
        "year": 2024,
    }
    odd = report.report_query({"period": "week", "year": "2099", "number": "13"}, TODAY)
    assert odd == report.ReportQuery("month", 2026, 5)
    assert report.report_options(TODAY)["year"][0] == ("2026", "2026年")
    assert report.report_options(TODAY)["quarter"][2] == ("3", "第三季度")


def test_the_reports_tables_read_with_shares_and_ranks() -> None:
    by_channel = [
        {"key": "visit", "name": "来访", "items": 30, "previous_items": 20},
        {"key": "letter", "name": "来信", "items": 10, "previous_items": None},
    ]
    rows = report.breakdown_rows({"by": "channel", "rows": by_channel})
    assert [(r.name, r.items, r.share, r.previous) for r in rows] == [
        ("来访", "30", "75.0%", "20"),
        ("来信", "10", "25.0%", "—"),
    ]
    assert rows[0].change == "增加10件次，增长50.0%" and rows[1].change == "—"
    units = report.unit_rows(
        [
            {
                "key": "339922-zrzy",
                "name": "清河县自然资源和规划局",
                "items": 40,
                "reply_assessable": 24,
                "reply_ontime": 19,
                "rate": 79.2,
                "overdue": 3,
                "supervised": 2,
            }
        ]
    )
    assert units[0].rank == 1 and units[0].rate == "79.2%"
    assert report.backlog_figures({"total": 12, "resolved": 5, "rate": 41.7}) == (
        "12",
        "5",
        "41.7%",
    )
    assert report.backlog_figures({"total": 0, "resolved": 0, "rate": None}) == ("0", "0", "—")
    assert report.breakdown_rows(None) == []
