"""Routing's case API, typed: a case's routing (the decision and its hops), the corrections
asked for (objection, reassignment) and the hop they make, the classification preview."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field
from xinfang_shared.events import CaseRouted, CategorySuggestion
from xinfang_shared.text import SingleLine


class RoutingDecisionRead(BaseModel):
    """Why the case went where it did. A routed case has ``reason``; a linked one
    ``linked_to``; other facts may be added over time."""

    model_config = ConfigDict(extra="allow")

    reason: str | None = Field(default=None, description="分办理由 / why this body")
    territory_source: str | None = Field(
        default=None,
        description="属地依据 / where the place came from: code | address | content | receiving",
    )
    suggestions: list[CategorySuggestion] = Field(
        default_factory=list,
        description=(
            "待人工分办时，自动识别最可能的问题类别（代码、名称、概率，最多 3 个），供分办人参考"
            " / when left for manual triage: the classifier's most probable categories"
        ),
    )
    linked_to: str | None = Field(default=None, description="并入的原件编号 / the case it joins")
    similarity: float | None = None


class HopRead(BaseModel):
    case_id: str
    hop: int
    case_number: str
    action: str = Field(description="交办 | 转送 | 直接办理 | 退回 | 改派")
    from_unit_code: str
    from_unit_name: str
    to_unit_code: str
    to_unit_name: str
    reason: str
    actor: str
    needs_manual_triage: bool
    final: bool
    transfer_due: date | None
    received_at: datetime
    routed_at: datetime


class CaseRead(BaseModel):
    """A case as routing holds it: the routing decision, who holds it now, and every hop.
    (Columns added later are passed through.)"""

    model_config = ConfigDict(extra="allow")

    case_id: str
    case_number: str
    receiving_office_code: str
    received_at: datetime
    channel: str
    category: str | None = Field(description="问题类别代码（人工分办待定时为空）")
    category_name: str | None = Field(
        default=None, description="问题类别名称 / the category's Chinese name (rules.yaml)"
    )
    category_source: str = Field(description="registrar | classifier | named | linked | none")
    kind: str | None = Field(description="申诉求决 | 建议意见 | 检举控告")
    legal_channel: str = Field(description="ordinary | legal（涉法涉诉）| discipline（纪检监察）")
    confidential: bool
    territory_code: str | None
    responsible_unit_code: str | None
    holder_code: str | None = Field(description="现承办单位 / the body holding the case now")
    holder_since: datetime | None
    supervising_code: str | None
    skip_level: bool
    status: str = Field(description="routed | linked | watched | closed")
    linked_to: str | None
    repeat_count: int
    decision: RoutingDecisionRead | None
    hops: list[HopRead]


# the hop's reason column holds 500: "承办单位提出异议：" + the reason
REASON_MAX = 480


class ObjectionCreate(BaseModel):
    department_code: SingleLine | None = Field(
        default=None,
        min_length=3,
        max_length=30,
        description="提出异议的承办单位代码（默认为登录用户所在单位；服务账号须填写）",
    )
    reason: SingleLine = Field(min_length=2, max_length=REASON_MAX, description="异议理由")
    actor: SingleLine | None = Field(
        default=None, max_length=60, description="经办人（仅服务账号可填；人员以登录用户为准）"
    )


class ReassignCreate(BaseModel):
    to_department_code: SingleLine = Field(
        min_length=3, max_length=30, description="改派至的部门代码"
    )
    reason: SingleLine = Field(min_length=2, max_length=REASON_MAX, description="改派理由")
    actor: SingleLine | None = Field(default=None, max_length=60)


class ClassifyRequest(BaseModel):
    content: str = Field(min_length=1, max_length=20_000)
    title: str = Field(default="", max_length=200)


class ClassifyRead(BaseModel):
    """What routing's learned classifier makes of a text (a preview for the registrar)."""

    category: str | None = Field(description="识别的问题类别代码；无把握时为空（人工分办）")
    category_name: str | None
    abstain: bool = Field(description="无把握，需人工分办 / the classifier abstains")
    accusation: bool = Field(description="按检举控告处理（保密）/ treated as an accusation")
    legal: bool = Field(description="涉法涉诉，诉访分离 / the legal channel")
    suggestions: list[CategorySuggestion] = Field(description="最可能的问题类别（最多 3 个）")


class CaseRoutedRead(CaseRouted):
    """The hop a correction (objection, reassignment) just made, as ``case.routed`` tells it."""
