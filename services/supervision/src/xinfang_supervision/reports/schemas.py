"""What the report API answers."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class OverdueItemRead(BaseModel):
    case_id: str
    case_number: str
    deadline: str = Field(description="超期的期限名称")
    due_date: date
    days_overdue: int
    leader: str | None = Field(description="包案领导")
    backlog: bool = Field(description="积案")


class OverdueUnitRead(BaseModel):
    unit_code: str
    unit_name: str
    overdue: list[OverdueItemRead]


class OverdueReportRead(BaseModel):
    """通报: the week's overdue deadlines, grouped by the unit that holds them."""

    title: str
    as_of: date
    units: list[OverdueUnitRead] = Field(description="超期最多的单位在前")
    total_overdue: int
