"""What the statistics API answers: the summary figures with their 同比, and breakdowns."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from xinfang_reports.stats.measures import Unit


class By(StrEnum):
    MONTH = "month"
    DAY = "day"
    CHANNEL = "channel"
    KIND = "kind"
    CATEGORY = "category"
    PLACE = "place"
    RECEIVING = "receiving"
    HANDLING = "handling"
    LEVEL = "level"


BY_LABELS: dict[By, str] = {
    By.MONTH: "按月",
    By.DAY: "按日",
    By.CHANNEL: "按渠道",
    By.KIND: "按性质",
    By.CATEGORY: "按类别",
    By.PLACE: "按地点",
    By.RECEIVING: "按登记机构",
    By.HANDLING: "按承办单位",
    By.LEVEL: "按承办层级",
}


class PeriodRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="起始日期（含）")
    to: date = Field(description="截止日期（含）")
    label: str = Field(description="期间名称，如 2026年第三季度")


class ScopeRead(BaseModel):
    code: str = Field(description="统计范围的单位（或承办人所在部门）代码")
    name: str = Field(description="统计范围的名称，如 清河县")


class FigureRead(BaseModel):
    key: str = Field(description="指标代码，如 items、reply_ontime_rate")
    label: str = Field(description="指标名称，如 件次、按期办结率（按期答复率）")
    unit: Unit = Field(description="单位：件次 | 批 | 人次 | %")
    value: float | int | None = Field(description="本期数值（比率为百分数，保留一位小数）")
    previous: float | int | None = Field(description="去年同期数值")
    change: float | int | None = Field(description="增减（本期 - 同期；比率为百分点）")
    numerator: int | None = Field(description="比率的分子（非比率为空）")
    denominator: int | None = Field(description="比率的分母（非比率为空）")
    measure: str | None = Field(
        description="下钻到台账时的 measure 参数（台账列出计入该指标的件次）"
    )
    note: str | None = Field(description="说明，如 信访人评价上线后统计")


class SummaryRead(BaseModel):
    period: PeriodRead
    previous: PeriodRead = Field(description="去年同期")
    as_of: date = Field(description="统计截止日（各项按此日的状态计）")
    scope: ScopeRead
    figures: list[FigureRead]


class BreakdownRow(BaseModel):
    key: str = Field(description="分组代码（下钻时作为相应筛选参数）；空串为未注明")
    name: str = Field(description="分组名称")
    items: int = Field(description="件次")
    previous_items: int = Field(description="去年同期件次")
    visits: int = Field(description="来访批次")
    visit_persons: int = Field(description="来访人次")
    repeat: int = Field(description="重复信访")
    collective: int = Field(description="集体访/联名")
    overdue: int = Field(description="超期")
    supervised: int = Field(description="督办")
    reply_assessable: int = Field(description="应办结")
    reply_ontime: int = Field(description="按期办结")
    reply_ontime_rate: float | None = Field(description="按期办结率（%）")


class BreakdownRead(BaseModel):
    by: By
    label: str = Field(description="分组方式的名称，如 按类别")
    period: PeriodRead
    previous: PeriodRead
    as_of: date
    scope: ScopeRead
    rows: list[BreakdownRow] = Field(description="件次多的在前（按月、按日：按时间先后）")
