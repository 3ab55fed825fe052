"""What the alert API answers."""

from __future__ import annotations

from pydantic import BaseModel, Field
from xinfang_shared.schemas import IsoDateTime


class MemberRead(BaseModel):
    case_id: str
    case_number: str


class EmergingAlertRead(BaseModel):
    """群体性苗头: distinct petitioners of one place about one matter within a window."""

    alert_id: str
    place_code: str = Field(description="村（社区）或乡镇代码")
    category: str = Field(description="事项类别代码")
    category_label: str = Field(description="事项类别名称")
    window_start: IsoDateTime
    window_end: IsoDateTime
    petitioners: int = Field(description="窗口内不同信访人数")
    members: list[MemberRead]
    raised_at: IsoDateTime
    updated_at: IsoDateTime
