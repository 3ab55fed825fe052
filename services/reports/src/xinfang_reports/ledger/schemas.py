"""What the ledgers (台账) answer: the registration ledger's rows and the backlog's, paged."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, Field

SEALED = "（检举人信息保密）"
ANONYMOUS = "（匿名）"


class LedgerSort(StrEnum):
    RECEIVED = "received"
    RECEIVED_DESC = "-received"


class LedgerRow(BaseModel):
    case_id: str
    case_number: str | None = Field(description="编号")
    received_date: date | None = Field(description="登记日期")
    channel: str | None = Field(description="渠道代码")
    channel_label: str | None = Field(description="渠道：来信、来访、来电、网上信访、领导信箱")
    petitioners: str | None = Field(description="信访人（检举控告件为（检举人信息保密））")
    persons: int | None = Field(description="人数")
    place_name: str | None = Field(description="事项发生地")
    title: str | None = Field(description="标题")
    summary: str | None = Field(description="事项（内容摘要）")
    kind: str | None = Field(description="性质：申诉求决 | 建议意见 | 检举控告")
    category_name: str | None = Field(description="类别")
    handling_name: str | None = Field(description="承办单位")
    reply_due: date | None = Field(description="办理期限")
    status_label: str | None = Field(description="状态")
    outcome: str | None = Field(description="处理结果")
    repeat_match: str | None = Field(description="重复信访 | 一信多投 | 空（初信初访）")
    overdue: bool = Field(description="超期")
    supervised: bool = Field(description="督办")


class LedgerPage(BaseModel):
    total: int = Field(description="符合条件的件次总数")
    page: int
    page_size: int
    rows: list[LedgerRow]


class BacklogRow(BaseModel):
    case_id: str
    case_number: str | None = Field(description="编号")
    received_date: date | None = Field(description="登记日期")
    title: str | None = Field(description="事项（标题，无标题时为内容摘要）")
    category_name: str | None = Field(description="类别")
    place_name: str | None = Field(description="事项发生地")
    handling_name: str | None = Field(description="责任单位")
    leader: str | None = Field(description="包案领导")
    backlog_date: date | None = Field(description="列入积案日期")
    backlog_reasons: str | None = Field(description="列入积案的原因（；分隔）")
    escalations: int = Field(description="提级次数")
    supervised: bool = Field(description="督办")
    status_label: str | None = Field(description="状态")
    closed_date: date | None = Field(description="办结（化解）日期")


class BacklogPage(BaseModel):
    total: int = Field(description="积案件数")
    page: int
    page_size: int
    rows: list[BacklogRow]
