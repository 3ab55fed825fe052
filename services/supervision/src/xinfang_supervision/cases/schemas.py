"""What the case API takes and answers: one typed body per lifecycle action (a discriminated
union on ``action``, which the URL gives), the bodies of the other steps, and the ``…Read``
models of the case as a person reads it (each code with its Chinese label beside it)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError
from xinfang_shared.schemas import IsoDateTime
from xinfang_shared.text import MultiLine, SingleLine

from xinfang_supervision.cases import commands as c


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be blank", {"zh": "不能为空"})
    return value


Actor = Annotated[SingleLine, Field(max_length=60)]
Reason = Annotated[MultiLine, Field(max_length=2000)]
Outcome = Annotated[SingleLine, Field(max_length=200), AfterValidator(_not_blank)]
Statement = Annotated[MultiLine, Field(max_length=5000), AfterValidator(_not_blank)]
ACTOR_FIELD = Field(default=None, description="经办人（仅服务账号代办时使用；默认为登录用户）")


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Actor | None = ACTOR_FIELD


class AcceptBody(_Step):
    """受理：书面告知信访人"""

    action: Literal["accept"]

    def command(self, actor: str) -> c.Accept:
        return c.Accept(actor)


class DeclineBody(_Step):
    """不予受理：须写明理由"""

    action: Literal["decline"]
    reason: Annotated[Reason, AfterValidator(_not_blank)] = Field(description="不予受理的理由")

    def command(self, actor: str) -> c.Decline:
        return c.Decline(actor, reason=self.reason)


class ExtendBody(_Step):
    """延期（本机关负责人批准；批准人为登录的领导账号）。未填的天数和理由取承办人待批准的申请"""

    action: Literal["extend"]
    days: int | None = Field(default=None, ge=1, le=3650, strict=True, description="延长天数")
    reason: Reason | None = Field(default=None, description="延期理由")

    def command(self, actor: str) -> c.Extend:
        return c.Extend(actor, days=self.days, reason=self.reason)


class ReplyBody(_Step):
    """出具信访处理意见书"""

    action: Literal["reply"]
    outcome: Literal["予以支持", "作出解释说明", "不予支持"] = Field(description="处理意见")
    facts: Statement = Field(description="查明的事实")
    reasons: Statement = Field(description="理由")
    legal_basis: Annotated[MultiLine, Field(max_length=2000), AfterValidator(_not_blank)] = Field(
        description="法律依据"
    )

    def command(self, actor: str) -> c.Reply:
        return c.Reply(
            actor,
            outcome=self.outcome,
            facts=self.facts,
            reasons=self.reasons,
            legal_basis=self.legal_basis,
        )


class CloseBody(_Step):
    """办结"""

    action: Literal["close"]

    def command(self, actor: str) -> c.Close:
        return c.Close(actor)


class RequestReviewBody(_Step):
    """申请复查（收到处理意见书之日起30日内）"""

    action: Literal["request_review"]

    def command(self, actor: str) -> c.RequestReview:
        return c.RequestReview(actor)


class AnswerReviewBody(_Step):
    """出具复查意见"""

    action: Literal["answer_review"]
    outcome: Outcome = Field(description="复查意见")

    def command(self, actor: str) -> c.AnswerReview:
        return c.AnswerReview(actor, outcome=self.outcome)


class RequestRereviewBody(_Step):
    """申请复核（收到复查意见之日起30日内）"""

    action: Literal["request_rereview"]

    def command(self, actor: str) -> c.RequestRereview:
        return c.RequestRereview(actor)


class AnswerRereviewBody(_Step):
    """出具复核意见（最终意见）"""

    action: Literal["answer_rereview"]
    outcome: Outcome = Field(description="复核意见")

    def command(self, actor: str) -> c.AnswerRereview:
        return c.AnswerRereview(actor, outcome=self.outcome)


ActionBody = Annotated[
    AcceptBody
    | DeclineBody
    | ExtendBody
    | ReplyBody
    | CloseBody
    | RequestReviewBody
    | AnswerReviewBody
    | RequestRereviewBody
    | AnswerRereviewBody,
    Field(discriminator="action"),
]
ACTION_BODIES: tuple[type[_Step], ...] = (
    AcceptBody,
    DeclineBody,
    ExtendBody,
    ReplyBody,
    CloseBody,
    RequestReviewBody,
    AnswerReviewBody,
    RequestRereviewBody,
    AnswerRereviewBody,
)


class ExtensionRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Actor | None = None
    days: int = Field(ge=1, le=3650, strict=True, description="申请延长的天数")
    reason: Annotated[MultiLine, Field(min_length=2, max_length=2000)] = Field(
        description="延期理由"
    )


class HearingBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Actor | None = None
    days: int = Field(ge=1, le=90, strict=True, description="听证天数")


def _username(value: str) -> str:
    if not USERNAME.fullmatch(value):
        raise PydanticCustomError(
            "username",
            "must be a username: 3-32 lower-case letters, digits or . _ -, starting with a letter",
            {"zh": "应为用户名：3–32 位小写字母、数字或 . _ -，以字母开头"},
        )
    return value


USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,31}")


class LeaderBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Actor | None = None
    leader: Annotated[SingleLine, Field(min_length=1, max_length=60)] = Field(
        description="包案领导姓名"
    )
    leader_username: Annotated[str, AfterValidator(_username)] | None = Field(
        default=None, description="包案领导的账号（其“我包案的”待办以此筛选）"
    )


class OrderCreate(BaseModel):
    """督办 by hand: the reason, and the date the written feedback is due (today to 30 days)."""

    model_config = ConfigDict(extra="forbid")
    reason: Annotated[
        MultiLine, Field(min_length=2, max_length=500), AfterValidator(_not_blank)
    ] = Field(description="督办事由")
    feedback_due: date = Field(description="书面反馈期限（今天起30日内）")


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Actor | None = None
    text: Annotated[MultiLine, Field(min_length=2, max_length=10000)] = Field(
        description="书面反馈"
    )


# --- answers ----------------------------------------------------------------------------------


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DeadlineNoticeRead(_Read):
    kind: str = Field(description="reminder | overdue | escalation")
    kind_label: str = Field(description="催办提醒 / 超期 / 提级督办")
    stage: int
    sent_at: IsoDateTime


class DeadlineRead(_Read):
    id: str
    case_id: str
    case_number: str
    kind: str = Field(description="期限种类，如 acceptance_notice、handling")
    label: str = Field(description="期限名称")
    basis: str = Field(description="法律依据")
    unit_code: str = Field(description="承担该期限的单位")
    unit_name: str
    supervisor_code: str | None = Field(description="现在督办该期限的机构（提级后上移）")
    start_date: date
    due_date: date
    status: str = Field(description="open | met | cancelled")
    status_label: str
    met_at: IsoDateTime | None
    stage_done: int = Field(description="已发出的最后一个提醒阶段，-1 为无")
    next_check: date | None
    created_at: IsoDateTime
    notices: list[DeadlineNoticeRead] = Field(description="已发出的提醒、超期和提级通知")


def _absent(value: object) -> bool:
    return value is None


class StepDetailRead(BaseModel):
    """The fields a step was given (each step fills its own; history written before release
    15 may carry the old common body's other fields, kept as they were)."""

    model_config = ConfigDict(extra="allow")
    reason: str | None = Field(
        default=None, exclude_if=_absent, description="理由（不予受理、延期）"
    )
    days: int | None = Field(default=None, exclude_if=_absent, description="延长天数")
    approver: str | None = Field(default=None, exclude_if=_absent, description="延期批准人")
    outcome: str | None = Field(
        default=None, exclude_if=_absent, description="处理、复查或复核意见"
    )
    facts: str | None = Field(default=None, exclude_if=_absent, description="查明的事实")
    reasons: str | None = Field(default=None, exclude_if=_absent, description="理由")
    legal_basis: str | None = Field(default=None, exclude_if=_absent, description="法律依据")


class HistoryRead(_Read):
    id: int
    case_id: str
    at: IsoDateTime
    actor: str
    action: str
    action_label: str
    from_state: str | None
    to_state: str | None
    note: str | None
    detail: StepDetailRead | None


class ExtensionRequestRead(_Read):
    id: int
    case_id: str
    days: int
    reason: str
    requested_by: str
    requested_at: IsoDateTime
    decision: str | None = Field(description="空：待批准；approved：已批准")
    decided_by: str | None
    decided_at: IsoDateTime | None


class OrderRead(_Read):
    id: str
    case_id: str
    deadline_id: str
    issued_by: str
    issued_to: str
    issued_at: IsoDateTime
    feedback_due: date
    feedback_at: IsoDateTime | None
    feedback: str | None


class CaseSummaryRead(_Read):
    case_id: str
    case_number: str
    profile: str = Field(description="开案时适用的期限规则")
    status: str
    status_label: str | None
    unit_code: str = Field(description="承办单位")
    unit_name: str
    supervising_code: str | None = Field(description="交办、督办的机构")
    category: str | None = Field(description="事项类别代码")
    category_label: str | None = Field(description="事项类别名称")
    received_at: IsoDateTime
    routed_at: IsoDateTime
    accepted_at: IsoDateTime | None
    replied_at: IsoDateTime | None
    reply_outcome: str | None
    review_answered_at: IsoDateTime | None
    extension_days: int
    leader: str | None = Field(description="包案领导")
    repeat_count: int
    escalations: int
    backlog: bool = Field(description="积案")
    backlog_reasons: list[str] | None
    updated_at: IsoDateTime


class AllowedActionRead(BaseModel):
    action: str = Field(
        description="accept、decline、extend、reply、close、request_review、answer_review、"
        "request_rereview、answer_rereview、request_extension、hearing、leader、order、"
        "feedback:<督办单 id>"
    )
    label: str = Field(description="按钮上的文字")


class CaseRead(CaseSummaryRead):
    place_code: str | None = Field(description="事项发生地（村、社区或乡镇）")
    place_name: str | None
    leader_username: str | None = Field(description="包案领导的账号")
    allowed_actions: list[AllowedActionRead] = Field(
        default_factory=list, description="当前登录用户此刻可以办理的环节"
    )
    deadlines: list[DeadlineRead]
    history: list[HistoryRead]
    extension_requests: list[ExtensionRequestRead]
    orders: list[OrderRead]
