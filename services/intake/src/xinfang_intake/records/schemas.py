"""What staff read of a petition record (the workbench's case page, its search and the
registrar's duplicate warning). Personal data is shown masked; a sealed informant never."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field


class PetitionerRead(BaseModel):
    name: str
    id_number_masked: str | None = Field(default=None, description="如 110105********002X")
    phone: str | None = None
    address: str | None = None
    representative: bool = Field(default=False, description="来访代表（信访工作条例第二十条）")


class RecordRead(BaseModel):
    """一件信访事项的登记内容 — the record as registered, for staff in scope."""

    case_id: str
    case_number: str
    query_code: str | None = Field(
        default=None, description="查询码（检举控告不显示：查询码只当面告知检举人）"
    )
    channel: str
    channel_label: str
    persons: int
    collective: bool
    anonymous: bool
    informant_sealed: bool = Field(description="检举控告：检举人身份已加密，不显示信访人")
    receiving_office_code: str
    receiving_office_name: str
    matter_location_code: str | None
    matter_location_name: str | None
    matter_address: str | None
    category: str | None
    title: str | None
    content: str
    received_at: datetime
    registered_at: datetime
    letter_date: date | None
    caller_phone: str | None
    repeat_of: str | None = Field(description="登记时关联的原信访件编号")
    status: str
    status_label: str
    handling_unit_code: str | None
    handling_unit_name: str | None
    supervising_code: str | None
    petitioners: list[PetitionerRead] = Field(
        description="信访人；检举控告（informant_sealed）时为空"
    )


class RecordSearchRead(BaseModel):
    case_ids: list[str] = Field(description="命中的信访件（最新收到的在前）")
    truncated: bool = Field(description="命中数超过 limit，只返回了前 limit 件")


class OpenCaseRead(BaseModel):
    case_id: str
    case_number: str
    received_at: datetime
    status_label: str
    handling_unit_name: str | None
    excerpt: str = Field(description="内容前 60 字")
