"""CloudEvents 1.0 envelope and the versioned pydantic schemas of every event on the bus.

The Kafka message key is always the case id (the envelope's ``subject``), so all events of one
case stay in order within a topic. Consumers ignore fields they do not know (``extra="ignore"``),
so producers may add fields without breaking older consumers; a breaking change bumps the
schema version.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from xinfang_shared.timeutil import ensure_aware

SPEC_VERSION = "1.0"


class EventData(BaseModel):
    """Base of every event payload. Unknown fields are ignored on read."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]


class PetitionerInfo(BaseModel):
    """What other services may know of a petitioner: no raw ID number ever leaves intake."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    id_number_masked: str | None = None
    id_hash: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None


class PetitionReceived(EventData):
    TYPE: ClassVar[str] = "petition.received"
    TOPIC: ClassVar[str] = "petition.received"

    case_id: str
    case_number: str
    channel: str
    received_at: datetime
    receiving_office_code: str
    receiving_office_name: str
    anonymous: bool
    petitioners: list[PetitionerInfo] = Field(default_factory=list)
    persons: int
    matter_location_code: str | None = None
    matter_address: str | None = None
    category: str | None = None
    title: str | None = None
    content: str
    collective: bool = False
    query_code: str | None = None  # the petitioner's 查询码, for their receipt (SMS / e-mail)
    # 检举控告: the informant's identity stays sealed in intake. The event then names no one
    # (placeholder names only, no ID, phone, e-mail, address or query code) and routing
    # treats the case as confidential.
    informant_sealed: bool = False
    # the case number of an open case the registrar linked this item to (重复信访 seen at the
    # desk): routing links it there when that case is open and in the registrar's scope
    repeat_of: str | None = None


class CategorySuggestion(BaseModel):
    """One of the learned classifier's most probable categories, shown to the person who
    triages an item by hand (人工分办) when routing could not decide."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    category: str = Field(description="类别代码 / category code (rules.yaml)")
    name: str = Field(description="类别名称 / the category's Chinese name")
    probability: float = Field(ge=0, le=1, description="模型给出的概率 / the model's probability")


class CaseRouted(EventData):
    TYPE: ClassVar[str] = "case.routed"
    TOPIC: ClassVar[str] = "case.routed"

    case_id: str
    case_number: str
    hop: int
    action: Literal["转送", "交办", "直接办理", "退回", "改派"]
    from_unit_code: str  # the sending office or department (department codes: <unit>-<short>)
    from_unit_name: str
    to_unit_code: str
    to_unit_name: str
    reason: str
    routed_at: datetime
    received_at: datetime
    needs_manual_triage: bool = False
    final: bool = True  # the last hop of this routing: the body that handles the case
    transfer_due: date | None = None  # this hop's own transfer deadline
    supervising_code: str | None = None  # the petition office that assigned it and supervises
    category: str | None = None
    category_name: str | None = None
    kind: str | None = None  # 申诉求决 | 建议意见 | 检举控告
    legal_channel: bool = False  # 涉法涉诉: handled by the court / 政法 channel (诉访分离)
    confidential: bool = False  # 检举控告: never disclose the informant
    skip_level: bool = False
    actor: str = "routing"
    # set on the first routing only, for emerging-incident counting (群体性苗头):
    place_code: str | None = None  # the village/community, else the township, of the matter
    place_name: str | None = None
    petitioner_key: str | None = None  # salted identity hash; None when anonymous
    # on the final hop of an item left for manual triage: the classifier's top categories
    suggestions: tuple[CategorySuggestion, ...] = ()


class CaseLinked(EventData):
    """A repeat (重复信访) or 一信多投: the item joins an open case instead of starting one."""

    TYPE: ClassVar[str] = "case.linked"
    TOPIC: ClassVar[str] = "case.linked"

    case_id: str  # the new item
    case_number: str
    linked_case_id: str  # the open case it joins
    linked_case_number: str
    match: Literal["重复信访", "一信多投"]
    similarity: float
    repeat_count: int  # arrivals of the linked case so far, the original included
    receiving_office_code: str
    holder_code: str | None = None
    received_above: bool = False  # A19: pending at a lower level, not accepted again up here
    linked_at: datetime
    # the case it joins: what it is about and where, for whoever counts the item (reports)
    category: str | None = None
    category_name: str | None = None
    kind: str | None = None
    holder_name: str | None = None
    skip_level: bool = False


class SkipLevelAlert(EventData):
    """越级访: a visit received two or more levels above the responsible level."""

    TYPE: ClassVar[str] = "alert.skip_level"
    TOPIC: ClassVar[str] = "alert.skip_level"

    case_id: str
    case_number: str
    receiving_office_code: str
    receiving_office_name: str
    responsible_code: str
    responsible_name: str
    levels_skipped: int
    raised_at: datetime


class DeadlineSummary(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: str
    label: str
    due_date: date
    status: str  # open | met | cancelled


class CaseStatusChanged(EventData):
    TYPE: ClassVar[str] = "case.status_changed"
    TOPIC: ClassVar[str] = "case.status_changed"

    case_id: str
    case_number: str
    old_status: str | None
    new_status: str
    changed_at: datetime
    actor: str
    note: str | None = None
    status_label: str | None = None
    deadlines: list[DeadlineSummary] = Field(default_factory=list)
    next_step: str | None = None  # what happens next, in Chinese, for the petitioner
    handling_unit_name: str | None = None


class DeadlineData(EventData):
    case_id: str
    case_number: str
    deadline_id: str
    deadline_kind: str
    deadline_label: str
    unit_code: str
    unit_name: str
    due_date: date
    days_left: int
    supervisor_code: str | None = None
    leader: str | None = None  # 包案领导: told of every reminder and escalation


class DeadlineReminder(DeadlineData):
    TYPE: ClassVar[str] = "deadline.reminder"
    TOPIC: ClassVar[str] = "deadline.reminder"

    days_before: int
    level: Literal["yellow"] = "yellow"


class DeadlineOverdue(DeadlineData):
    TYPE: ClassVar[str] = "deadline.overdue"
    TOPIC: ClassVar[str] = "deadline.overdue"

    days_overdue: int
    level: Literal["red"] = "red"


class CaseEscalated(EventData):
    TYPE: ClassVar[str] = "case.escalated"
    TOPIC: ClassVar[str] = "case.escalated"

    case_id: str
    case_number: str
    from_unit_code: str
    to_unit_code: str
    reason: str
    escalated_at: datetime
    to_unit_name: str | None = None
    handling_unit_code: str | None = None
    handling_unit_name: str | None = None
    escalation: int = 1  # how many levels it has gone up
    leader: str | None = None


class SupervisionOrderIssued(EventData):
    """督办: an overdue case gets a supervision order from the level above, requiring feedback."""

    TYPE: ClassVar[str] = "case.supervision_order"
    TOPIC: ClassVar[str] = "case.supervision_order"

    case_id: str
    case_number: str
    order_id: str
    issued_by: str
    issued_by_name: str
    issued_to: str
    issued_to_name: str
    deadline_label: str
    due_date: date
    feedback_due: date
    issued_at: datetime
    leader: str | None = None


class CaseLeaderNamed(EventData):
    """包案领导: a leader takes personal charge of a case (told of every reminder from then)."""

    TYPE: ClassVar[str] = "case.leader_named"
    TOPIC: ClassVar[str] = "case.leader_named"

    case_id: str
    case_number: str
    leader: str
    actor: str
    named_at: datetime


class CaseBacklogMarked(EventData):
    """积案: the case joined the backlog for a reason it did not have yet (escalated twice or
    more, open longer than the backlog period, repeat arrivals). One event per new reason."""

    TYPE: ClassVar[str] = "case.backlog"
    TOPIC: ClassVar[str] = "case.backlog"

    case_id: str
    case_number: str
    reason: str
    marked_at: datetime
    handling_unit_code: str | None = None


class SupervisionFeedbackGiven(EventData):
    """The written feedback on a 督办 order (督办反馈)."""

    TYPE: ClassVar[str] = "case.supervision_feedback"
    TOPIC: ClassVar[str] = "case.supervision_feedback"

    case_id: str
    case_number: str
    order_id: str
    feedback: str
    actor: str
    given_at: datetime


class CollectiveAlert(EventData):
    TYPE: ClassVar[str] = "alert.collective"
    TOPIC: ClassVar[str] = "alert.collective"

    case_id: str
    case_number: str
    persons: int
    threshold: int
    receiving_office_code: str
    receiving_office_name: str
    matter_location_code: str | None = None
    summary: str
    raised_at: datetime


class EmergingMember(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    case_id: str
    case_number: str


class EmergingAlert(EventData):
    """群体性苗头: distinct petitioners from one place about one matter crossed the threshold
    within a sliding window. One per place + matter + window (no storm as more items arrive)."""

    TYPE: ClassVar[str] = "alert.emerging"
    TOPIC: ClassVar[str] = "alert.emerging"

    case_id: str  # the item that crossed the threshold (the message key)
    case_number: str
    alert_id: str
    place_code: str
    place_name: str
    category: str
    category_name: str
    petitioners: int
    threshold: int
    window_start: datetime
    window_end: datetime
    members: list[EmergingMember]
    office_code: str  # the petition office of the place (township 信访办, else county 信访局)
    responsible_code: str | None = None  # the body the items were routed to
    raised_at: datetime


class RepeatWaveAlert(EventData):
    """The same case keeps coming back: N or more repeat arrivals within a few days."""

    TYPE: ClassVar[str] = "alert.repeat_wave"
    TOPIC: ClassVar[str] = "alert.repeat_wave"

    case_id: str  # the original case
    case_number: str
    arrivals: int
    window_days: int
    latest_case_number: str
    holder_code: str | None = None
    supervising_code: str | None = None
    raised_at: datetime


class AlertEscalated(EventData):
    """Nobody acknowledged an urgent alert in time: it goes one level up."""

    TYPE: ClassVar[str] = "alert.escalated"
    TOPIC: ClassVar[str] = "alert.escalated"

    case_id: str
    case_number: str
    alert_id: str
    kind: str  # collective | emerging
    title: str
    from_unit_code: str
    to_unit_code: str
    to_unit_name: str
    escalation: int
    raised_at: datetime
    escalated_at: datetime


class AlertAcknowledged(EventData):
    TYPE: ClassVar[str] = "alert.acknowledged"
    TOPIC: ClassVar[str] = "alert.acknowledged"

    case_id: str
    alert_id: str
    kind: str
    by: str
    unit_code: str | None = None
    note: str | None = None
    acknowledged_at: datetime


class NotificationSent(EventData):
    TYPE: ClassVar[str] = "notification.sent"
    TOPIC: ClassVar[str] = "notification.sent"

    notification_id: str
    case_id: str
    source_event_id: str
    source_event_type: str
    channel: str
    recipient: str
    title: str
    sent_at: datetime


class TokensRevoked(EventData):
    """An account was disabled, or its password or role changed: every token issued to it
    before ``revoked_at`` is refused by every service from now on (they expire on their own
    only hours later). Not about a case: keyed by the account."""

    TYPE: ClassVar[str] = "auth.tokens_revoked"
    TOPIC: ClassVar[str] = "auth.revocations"

    username: str
    revoked_at: datetime
    reason: str
    by: str

    @property
    def subject(self) -> str:
        return f"user:{self.username}"


EVENT_TYPES: dict[str, type[EventData]] = {
    cls.TYPE: cls
    for cls in (
        PetitionReceived,
        CaseRouted,
        CaseLinked,
        SkipLevelAlert,
        CaseStatusChanged,
        DeadlineReminder,
        DeadlineOverdue,
        CaseEscalated,
        SupervisionOrderIssued,
        CaseLeaderNamed,
        CaseBacklogMarked,
        SupervisionFeedbackGiven,
        CollectiveAlert,
        EmergingAlert,
        RepeatWaveAlert,
        AlertEscalated,
        AlertAcknowledged,
        NotificationSent,
        TokensRevoked,
    )
}


def dataschema_for(event_type: str, version: int) -> str:
    return f"urn:xinfang:schema:{event_type}:v{version}"


class Envelope(BaseModel):
    """A CloudEvents 1.0 structured-mode event (JSON)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str
    schemaversion: int
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _aware(cls, v: datetime) -> datetime:
        return ensure_aware(v)

    @property
    def key(self) -> bytes:
        """The Kafka message key: the case id."""
        return self.subject.encode()

    def payload(self) -> EventData:
        """Parse ``data`` into the schema registered for ``type``.

        Raises :class:`UnknownEventType` or :class:`pydantic.ValidationError`.
        """
        model = EVENT_TYPES.get(self.type)
        if model is None:
            raise UnknownEventType(self.type)
        return model.model_validate(self.data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class UnknownEventType(ValueError):
    pass


class BadEvent(ValueError):
    """A message that can never be processed: it goes to the dead-letter topic."""


def new_event(
    *, data: EventData, source: str, time: datetime, event_id: str | None = None
) -> Envelope:
    subject = getattr(data, "case_id", None) or getattr(data, "subject", None)
    if not subject:
        raise ValueError("every event is about a case and carries case_id (or a subject)")
    return Envelope(
        id=event_id or str(uuid.uuid4()),
        source=source,
        type=data.TYPE,
        subject=subject,
        time=ensure_aware(time),
        dataschema=dataschema_for(data.TYPE, data.VERSION),
        schemaversion=data.VERSION,
        data=data.model_dump(mode="json"),
    )


def decode(raw: bytes | str | None) -> Envelope:
    """Decode a message value into an envelope, or raise :class:`BadEvent` saying why."""
    if raw is None:
        raise BadEvent("empty message value")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadEvent("not a JSON object")
    try:
        return Envelope.model_validate(doc)
    except ValidationError as exc:
        raise BadEvent(f"not a CloudEvents envelope: {exc.errors(include_url=False)}") from exc
