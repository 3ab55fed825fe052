"""Request and response schemas of the petitions API (Create / Read kept apart)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from xinfang_shared import org
from xinfang_shared.text import check_text
from xinfang_shared.timeutil import local_date

from xinfang_intake.petitions.validation import (
    InvalidValue,
    birthdate_problem,
    normalise_id_number,
    normalise_phone,
    received_at_problem,
)


class Channel(StrEnum):
    LETTER = "letter"
    VISIT = "visit"
    PHONE = "phone"
    ONLINE = "online"
    LEADER_MAILBOX = "leader_mailbox"


CHANNEL_LABELS: dict[Channel, str] = {
    Channel.LETTER: "来信",
    Channel.VISIT: "来访",
    Channel.PHONE: "来电",
    Channel.ONLINE: "网上信访",
    Channel.LEADER_MAILBOX: "领导信箱",
}
_CHANNEL_BY_LABEL = {label: ch for ch, label in CHANNEL_LABELS.items()} | {"网上": Channel.ONLINE}


def bilingual(code: str, zh: str, en: str) -> PydanticCustomError:
    return PydanticCustomError(code, en, {"zh": zh})


def _invalid(exc: InvalidValue) -> PydanticCustomError:
    return bilingual(exc.code, exc.zh, exc.en)


def _line(value: str) -> str:
    return check_text(value)


def _lines(value: str) -> str:
    return check_text(value, multiline=True)


# What a person typed (xinfang_shared.text: no control characters, no bidi controls, not only
# invisible): trimmed and measured first, so that the lengths are reported as such.
_LINE = AfterValidator(_line)
_LINES = AfterValidator(_lines)


def _trim(min_length: int | None = None, max_length: int | None = None) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


MAX_REPRESENTATIVES = 5  # 信访工作条例 第二十条: 多人走访推选代表，代表人数不超过5人
_CASE_NUMBER = re.compile(r"^\d{6}(\d{3})?(\d{3})?-\d{4}-\d{6}$")
_ORG_CODE = re.compile(r"^\d{6}(\d{3})?(\d{3})?$")


def _known_unit(value: str, *, field: str) -> str:
    if not _ORG_CODE.match(value):
        raise bilingual(
            "org_code_format",
            f"{field}应为6、9或12位行政区划代码",
            f"{field} must be an administrative-division code of 6, 9 or 12 digits",
        )
    if org.get_unit(value) is None:
        raise bilingual(
            "org_code_unknown", f"未知的单位代码：{value}", f"unknown org unit code: {value}"
        )
    return value


def _optional_phone(v: str | None) -> str | None:
    """A phone number as stored (normalised), none for an empty one; a field error else."""
    if not v:
        return None
    try:
        return normalise_phone(v)
    except InvalidValue as exc:
        raise _invalid(exc) from None


class PetitionerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _trim(1, 50), _LINE, Field(description="姓名")]
    id_number: Annotated[str, _trim(max_length=30), _LINE] | None = Field(
        default=None, description="公民身份号码（18位）"
    )
    phone: Annotated[str, _trim(max_length=30), _LINE] | None = Field(
        default=None, description="联系电话"
    )
    email: EmailStr | None = None
    address: Annotated[str, _trim(max_length=200), _LINE] | None = Field(
        default=None, description="住址"
    )
    representative: StrictBool = Field(
        default=False,
        description="来访代表：多人走访推选的代表，不超过5人（信访工作条例第二十条）",
    )

    @field_validator("id_number")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if not v:
            return None
        try:
            return normalise_id_number(v)
        except InvalidValue as exc:
            raise _invalid(exc) from None

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str | None) -> str | None:
        return _optional_phone(v)


class PetitionCreate(BaseModel):
    """登记一件信访事项 — register one petition item."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "channel": "visit",
                "petitioners": [
                    {
                        "name": "张三",
                        "id_number": "11010519491231002X",
                        "phone": "13800138000",
                        "address": "清河县清河镇东岗村3组",
                    }
                ],
                "persons": 1,
                "receiving_office_code": "339922",
                "matter_location_code": "339922101201",
                "matter_address": "清河县清河镇东岗村",
                "category": "土地征收补偿",
                "title": "征地补偿款未发放",
                "content": "本人承包地于今年三月被征收，至今未收到征地补偿款，请求协调解决。",
            }
        },
    )

    channel: Channel = Field(
        description="渠道：letter 来信 / visit 来访 / phone 来电 / online 网上信访 / leader_mailbox 领导信箱"
    )
    # strict: true/false only, and whole JSON numbers only (no "7", 7.0 or true as a number)
    anonymous: StrictBool = Field(default=False, description="匿名")
    accusation: StrictBool = Field(
        default=False,
        description="检举控告：检举人身份加密保存，任何事件和查询都不显示。"
        "标题或内容含“举报/检举/控告”、类别为检举控告，或系统识别为可能的检举控告时，"
        "即使填 false 也按检举控告保密（Accusation: the informant is sealed; the words, "
        "the category or the shared classifier seal it even when this is false）",
    )
    petitioners: list[PetitionerCreate] = Field(default_factory=list, max_length=200)
    persons: StrictInt | None = Field(default=None, ge=1, le=100_000, description="人数")
    receiving_office_code: Annotated[str, _trim(max_length=12), _LINE] = Field(
        description="受理登记的信访部门所在单位代码"
    )
    matter_location_code: Annotated[str, _trim(max_length=12), _LINE] | None = Field(
        default=None, description="问题发生地代码"
    )
    matter_address: Annotated[str, _trim(max_length=300), _LINE] | None = None
    category: Annotated[str, _trim(max_length=50), _LINE] | None = Field(
        default=None, description="问题类别（可选）"
    )
    title: Annotated[str, _trim(max_length=200), _LINE] | None = None
    content: Annotated[str, _trim(5, 20_000), _LINES] = Field(description="信访内容")
    received_at: datetime | None = Field(
        default=None, description="收到时间（带时区），缺省为当前时间"
    )
    letter_date: date | None = Field(
        default=None, description="来信日期（仅来信；不得晚于收到日期）"
    )
    caller_phone: Annotated[str, _trim(max_length=30), _LINE] | None = Field(
        default=None, description="来电号码（仅来电；号码不显示时可不填）"
    )
    repeat_of: Annotated[str, _trim(max_length=40), _LINE] | None = Field(
        default=None,
        description="关联的在办信访件编号：本件并入该件办理（须未办结且在登记人范围内，"
        "否则照常分办）",
    )

    @field_validator("caller_phone")
    @classmethod
    def _caller(cls, v: str | None) -> str | None:
        return _optional_phone(v)

    @field_validator("repeat_of")
    @classmethod
    def _repeat_of(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not _CASE_NUMBER.match(v):
            raise bilingual(
                "case_number_format",
                "信访件编号格式应为“单位代码-年份-6位序号”，如 339922-2026-000123",
                "a case number looks like 339922-2026-000123",
            )
        return v

    @field_validator("channel", mode="before")
    @classmethod
    def _channel(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip() in _CHANNEL_BY_LABEL:
            return _CHANNEL_BY_LABEL[v.strip()]
        if isinstance(v, str) and v.strip().lower() not in {c.value for c in Channel}:
            options = "、".join(f"{c.value}（{CHANNEL_LABELS[c]}）" for c in Channel)
            # echoed back, so only what the answer can carry (no lone surrogate, bounded)
            shown = v.strip()[:30].encode("utf-8", "replace").decode("utf-8")
            raise bilingual(
                "channel_unknown",
                f"渠道无效：{shown}；可选：{options}",
                f"unknown channel {shown!r}; allowed: {', '.join(c.value for c in Channel)}",
            )
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("receiving_office_code")
    @classmethod
    def _office(cls, v: str) -> str:
        v = _known_unit(v, field="受理单位代码")
        unit = org.get_unit(v)
        assert unit is not None
        if unit.level is org.Level.VILLAGE:
            raise bilingual(
                "org_not_office",
                "村（社区）不设信访部门，请填写乡镇（街道）及以上单位",
                "villages have no petition office; use a township or higher",
            )
        return v

    @field_validator("matter_location_code")
    @classmethod
    def _location(cls, v: str | None) -> str | None:
        return _known_unit(v, field="问题发生地代码") if v else None

    @field_validator("received_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and (v.tzinfo is None or v.utcoffset() is None):
            raise bilingual(
                "datetime_naive", "时间须带时区，例如 +08:00", "timestamp must carry a UTC offset"
            )
        return v

    @model_validator(mode="after")
    def _people(self) -> PetitionCreate:
        if self.anonymous and self.petitioners:
            raise bilingual(
                "anonymous_with_petitioner",
                "匿名信访不能同时填写信访人信息",
                "an anonymous petition cannot name petitioners",
            )
        if not self.anonymous and not self.petitioners:
            raise bilingual(
                "petitioner_required",
                "非匿名信访至少填写一名信访人",
                "a petition that is not anonymous needs at least one petitioner",
            )
        if self.persons is None:
            self.persons = max(1, len(self.petitioners))
        elif self.persons < len(self.petitioners):
            raise bilingual(
                "persons_too_few",
                f"人数（{self.persons}）少于填写的信访人数（{len(self.petitioners)}）",
                f"persons ({self.persons}) is less than the petitioners listed ({len(self.petitioners)})",
            )
        return self


def _problem(field: str, code: str, zh: str, en: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": zh, "message_en": en}


def channel_problems(data: PetitionCreate) -> list[dict[str, str]]:
    """The fields that do not belong to ``data``'s channel, or that it lacks, as the platform's
    422 ``errors`` entries: a letter's date only for 来信, the caller's number required for
    来电 and only there, representatives only for a visit of several people, at most
    :data:`MAX_REPRESENTATIVES` (信访工作条例 第二十条)."""
    out: list[dict[str, str]] = []
    channel = data.channel
    if data.letter_date is not None and channel is not Channel.LETTER:
        out.append(
            _problem(
                "letter_date",
                "letter_date_not_letter",
                f"来信日期只用于来信，{CHANNEL_LABELS[channel]}不填",
                "letter_date is for letters only",
            )
        )
    if data.caller_phone is not None and channel is not Channel.PHONE:
        out.append(
            _problem(
                "caller_phone",
                "caller_phone_not_phone",
                f"来电号码只用于来电，{CHANNEL_LABELS[channel]}不填（信访人电话填在信访人中）",
                "caller_phone is for phone petitions only (a petitioner's phone goes with them)",
            )
        )
    named = [i for i, p in enumerate(data.petitioners) if p.representative]
    if named and channel is not Channel.VISIT:
        for i in named:
            out.append(
                _problem(
                    f"petitioners.{i}.representative",
                    "representative_not_visit",
                    "代表只用于多人走访（来访）",
                    "representatives are for visits only",
                )
            )
    elif named and (data.persons or 1) < 2:
        for i in named:
            out.append(
                _problem(
                    f"petitioners.{i}.representative",
                    "representative_single",
                    "一人来访无需推选代表",
                    "a visit of one person names no representative",
                )
            )
    elif len(named) > MAX_REPRESENTATIVES:
        for i in named[MAX_REPRESENTATIVES:]:
            out.append(
                _problem(
                    f"petitioners.{i}.representative",
                    "representatives_too_many",
                    f"多人走访推选的代表不超过{MAX_REPRESENTATIVES}人（信访工作条例第二十条），"
                    f"已选{len(named)}人",
                    f"at most {MAX_REPRESENTATIVES} representatives (A20); {len(named)} named",
                )
            )
    return out


def clock_problems(
    data: PetitionCreate, *, now: datetime, max_skew: timedelta, max_age: timedelta
) -> list[dict[str, str]]:
    """What in ``data`` cannot be true at ``now`` (the service's clock), as the platform's
    422 ``errors`` entries: a received_at out of bounds, a petitioner born after it."""
    out: list[dict[str, str]] = []

    def add(field: str, problem: InvalidValue) -> None:
        out.append(
            {"field": field, "code": problem.code, "message": problem.zh, "message_en": problem.en}
        )

    received = min(data.received_at or now, now)
    if data.received_at is not None:
        bad = received_at_problem(data.received_at, now=now, max_skew=max_skew, max_age=max_age)
        if bad is not None:
            add("received_at", bad)
            received = now
    day = local_date(received)
    if data.letter_date is not None and data.letter_date > day:
        out.append(
            _problem(
                "letter_date",
                "letter_date_after_received",
                "来信日期晚于收到日期，请核对",
                "letter_date is after the day the letter was received",
            )
        )
    for i, p in enumerate(data.petitioners):
        if p.id_number and (bad := birthdate_problem(p.id_number, on=day)) is not None:
            add(f"petitioners.{i}.id_number", bad)
    return out


class PetitionCreated(BaseModel):
    case_id: str
    case_number: str = Field(description="信访件编号")
    query_code: str = Field(description="查询码")
    status: str
    status_label: str
    received_at: datetime
    collective: bool
    informant_sealed: bool = Field(
        default=False, description="检举控告：检举人身份已加密保存，查询码请当面告知检举人"
    )
    message: str


class HistoryEntry(BaseModel):
    at: datetime
    status: str
    status_label: str
    note: str | None = None


class DeadlineRead(BaseModel):
    label: str
    due_date: str
    due_date_label: str = Field(description="期限（中文日期）")
    status: str
    status_label: str = Field(description="如：进行中、已完成、已完成（超期 3 天）、已超期 2 天")
    done_on: str | None = Field(default=None, description="完成日期")
    late: bool = Field(default=False, description="是否超期（完成晚于期限，或未完成已过期限）")
    days_late: int = Field(default=0, description="超期天数")


class PetitionStatusRead(BaseModel):
    """What the petitioner sees with the query code: no personal data."""

    case_number: str
    channel: str
    channel_label: str
    received_at: datetime
    receiving_office: str
    status: str
    status_label: str
    handling_unit: str | None
    deadlines: list[DeadlineRead] = Field(default_factory=list, description="办理期限")
    next_step: str | None = Field(default=None, description="下一步")
    history: list[HistoryEntry]
