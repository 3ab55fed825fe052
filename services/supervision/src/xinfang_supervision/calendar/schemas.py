"""The holiday notice an administrator loads, and the calendar's answers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from xinfang_shared.schemas import IsoDateTime
from xinfang_shared.text import MultiLine, SingleLine


class HolidayRange(BaseModel):
    """One holiday of the notice, as the notice words it: 春节：2月5日至13日放假调休."""

    model_config = ConfigDict(extra="forbid")
    name: Annotated[SingleLine, Field(min_length=1, max_length=20, description="节日名称")]
    start: date = Field(description="放假首日")
    end: date = Field(description="放假末日（含）")


class NoticeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    document: Annotated[
        SingleLine,
        Field(min_length=2, max_length=100, description="通知文号或标题，如 国办发明电〔2026〕7号"),
    ]
    holidays: list[HolidayRange] = Field(min_length=1, max_length=30, description="放假安排")
    workdays: list[date] = Field(default_factory=list, max_length=30, description="调休上班日")
    reason: Annotated[MultiLine, Field(max_length=500)] | None = Field(
        default=None, description="说明（如更正已载入的通知）"
    )


class StatutoryHolidayRead(BaseModel):
    date: date
    name: str


class LoadedHolidayRead(BaseModel):
    name: str
    start: date
    end: date


class HolidayNoticeRead(BaseModel):
    """The notice in force for a year, as loaded (who, when, from which document)."""

    document: str
    holidays: list[LoadedHolidayRead]
    workdays: list[date]
    reason: str | None
    loaded_by: str
    loaded_at: IsoDateTime


class YearRead(BaseModel):
    year: int
    source: str = Field(description="notice | package | rules：放假安排的来源")
    source_label: str
    statutory_holidays: list[StatutoryHolidayRead]
    notice: HolidayNoticeRead | None = Field(default=None, description="已载入的通知（无则为空）")


class CalendarWarningRead(BaseModel):
    year: int
    source: str
    message: str
    message_en: str


class CalendarRead(BaseModel):
    years: list[YearRead]
    warnings: list[CalendarWarningRead]


class MovedDeadlineRead(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    case_id: str
    case_number: str
    kind: str
    from_: date = Field(alias="from", description="原期限")
    to: date = Field(description="调整后的期限")


class NoticeLoadedRead(BaseModel):
    year: int
    document: str
    deadlines_moved: list[MovedDeadlineRead]
