"""What the worklist (待办/督办 list) takes and answers: the filters and sort as one typed
query, and each case with its next open deadline as the workbench colours it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from xinfang_supervision.cases.schemas import CaseSummaryRead
from xinfang_supervision.lifecycle import State


class WorklistSort(StrEnum):
    DUE = "due"
    DUE_DESC = "-due"
    RECEIVED = "received"
    RECEIVED_DESC = "-received"
    CASE_NUMBER = "case_number"
    CASE_NUMBER_DESC = "-case_number"
    UPDATED = "updated"
    UPDATED_DESC = "-updated"


@dataclass(frozen=True)
class WorklistQuery:
    """The filters, sort and page of one request (the view builds it from the query)."""

    status: tuple[State, ...] = ()
    category: str | None = None
    place: str | None = None  # a unit code: the place itself or below it
    due_within: int | None = None
    overdue: bool | None = None
    backlog: bool | None = None
    mine: bool = False
    case_number: str | None = None  # prefix
    case_ids: tuple[str, ...] | None = None
    open: bool | None = None  # None: only open cases unless a status is asked for
    sort: WorklistSort = WorklistSort.DUE
    page: int = 1
    size: int = 20


DeadlineState = Literal["ok", "warn", "late"]
STATE_LABELS: dict[str, str] = {"ok": "正常", "warn": "临期", "late": "已超期"}
WARN_SHARE = 0.25  # less than a quarter of the period left: 临期


class NextDeadlineRead(BaseModel):
    kind: str = Field(description="期限种类，如 acceptance_notice、handling")
    label: str = Field(description="期限名称")
    start_date: date
    due_date: date
    days_left: int = Field(description="距期限的自然日数（今天起算；已超期为负数）")
    share_left: float = Field(description="剩余期限占全程的比例（0–1）")
    state: DeadlineState = Field(description="ok 正常 | warn 临期（剩余不足四分之一）| late 已超期")
    state_label: str


class WorkItemRead(CaseSummaryRead):
    place_code: str | None = Field(description="事项发生地（村、社区或乡镇）")
    place_name: str | None
    leader_username: str | None = Field(description="包案领导的账号")
    next_deadline: NextDeadlineRead | None = Field(description="最近一个未到期的办理期限")


class WorklistRead(BaseModel):
    total: int = Field(description="符合条件的案件总数")
    page: int
    size: int
    items: list[WorkItemRead]
