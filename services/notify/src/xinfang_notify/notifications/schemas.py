"""Notify's typed API answers: the notification log (the dashboard feed), the delivery log and
inboxes, and the alerts to acknowledge. Timestamps are written as the live stream writes them
(``datetime.isoformat()``)."""

from __future__ import annotations

from pydantic import BaseModel, Field
from xinfang_shared.schemas import IsoDateTime


class NotificationRead(BaseModel):
    """What one recipient was told of one event (one line of the dashboard feed; the live
    stream's ``data`` is the same object)."""

    seq: int = Field(description="记录序号，SSE 事件 id / the log's id (the stream's event id)")
    notification_id: str
    source_event_id: str
    source_event_type: str
    case_id: str
    case_number: str
    channel: str
    recipient: str = Field(description="接收方（单位、角色或人员）/ unit, role or person")
    recipient_name: str = Field(description="接收方名称 / who it went to, by name")
    unit_code: str | None = Field(description="所属单位（用于按范围筛选）")
    alert_id: str | None = Field(description="须签收时为预警编号 / the alert to acknowledge")
    level: str
    title: str
    body: str
    link: str | None
    created_at: IsoDateTime


class DeliveryRead(BaseModel):
    """A notification's delivery on one channel to one address, and how it went."""

    id: int
    delivery_id: str
    source_event_id: str
    case_id: str
    case_number: str
    channel: str = Field(description="inbox | email | sms | wecom | dingtalk")
    address: str = Field(description="人员编号、邮箱、手机号或机器人地址")
    person_id: str | None
    recipient: str
    level: str
    subject: str
    body: str
    link: str | None
    template_id: str | None
    params: str | None = Field(description="短信模板参数（JSON 文本）/ SMS template parameters")
    status: str = Field(description="pending | sent | dead | skipped")
    attempts: int
    next_attempt_at: IsoDateTime | None
    last_error: str | None
    receipt: str | None
    created_at: IsoDateTime
    sent_at: IsoDateTime | None
    read_at: IsoDateTime | None = Field(description="站内信已读时间 / when an inbox item was read")
    alert_id: str | None


class InboxItemMarkedRead(BaseModel):
    delivery_id: str
    read: bool


class AlertRead(BaseModel):
    """An alert that someone must acknowledge (集体访, 群体性苗头)."""

    alert_id: str
    kind: str = Field(description="collective | emerging")
    case_id: str
    case_number: str
    title: str
    summary: str
    origin_unit_code: str = Field(description="预警产生的单位 / where it was raised")
    unit_code: str = Field(description="当前须签收的单位 / the unit that must acknowledge now")
    escalations: int
    unit_since: IsoDateTime | None
    reminders: int
    raised_at: IsoDateTime
    next_escalation_at: IsoDateTime | None
    acknowledged_at: IsoDateTime | None
    acknowledged_by: str | None
    ack_note: str | None


class AlertListItemRead(AlertRead):
    can_acknowledge: bool = Field(
        description="当前用户现在是否可签收 / whether the caller may acknowledge it now"
    )
