"""What the periodic report (月报、季报、年报; the annual one is A41) answers."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

from xinfang_reports.stats.schemas import BreakdownRow, FigureRead, PeriodRead, ScopeRead


class ReportPeriod(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class UnitRank(BaseModel):
    code: str = Field(description="承办单位代码")
    name: str = Field(description="承办单位名称")
    items: int = Field(description="件次")
    reply_assessable: int = Field(description="应办结")
    reply_ontime: int = Field(description="按期办结")
    rate: float | None = Field(description="按期办结率（%）")
    overdue: int = Field(description="超期")
    supervised: int = Field(description="督办")


class BacklogRead(BaseModel):
    total: int = Field(description="积案")
    resolved: int = Field(description="化解")
    rate: float | None = Field(description="化解率（%）")


class PeriodicReport(BaseModel):
    title: str = Field(description="报告标题，如 清河县2026年第三季度信访工作统计报告")
    kind: ReportPeriod = Field(description="month 月报 | quarter 季报 | year 年报")
    as_of: date = Field(description="统计截止日")
    scope: ScopeRead
    period: PeriodRead
    previous: PeriodRead = Field(description="去年同期")
    summary: list[FigureRead] = Field(description="主要指标及同比")
    by_channel: list[BreakdownRow] = Field(description="按渠道")
    by_kind: list[BreakdownRow] = Field(description="按性质")
    top_categories: list[BreakdownRow] = Field(description="件次最多的十个类别")
    top_places: list[BreakdownRow] = Field(description="件次最多的十个地点（本级辖区的下级）")
    units: list[UnitRank] = Field(description="承办单位，按期办结率高的在前，相同时超期少的在前")
    backlog: BacklogRead
    by_month: list[BreakdownRow] = Field(description="逐月走势")
