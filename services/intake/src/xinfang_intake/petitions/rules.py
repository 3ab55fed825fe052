"""The rules the registration form shows: which fields each channel asks for, the collective
threshold and how many representatives a visit may name (信访工作条例 第二十条). The same
constants the checks of :mod:`xinfang_intake.petitions.schemas` apply."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from xinfang_shared.auth.deps import require_roles
from xinfang_shared.auth.models import PERSON_ROLES

from xinfang_intake.deps import IntakeDep
from xinfang_intake.petitions.schemas import CHANNEL_LABELS, MAX_REPRESENTATIVES, Channel

router = APIRouter(prefix="/api/v1", tags=["petitions 信访事项"])


class ChannelFieldRead(BaseModel):
    field: str = Field(description="字段名（PetitionCreate 中的位置）")
    label: str
    required: bool
    note: str


class ChannelRuleRead(BaseModel):
    code: str
    label: str
    fields: list[ChannelFieldRead] = Field(description="该渠道特有的字段")


class RegistrationRulesRead(BaseModel):
    collective_threshold: int = Field(description="人数达到此数为集体访（群体性）")
    max_representatives: int = Field(description="多人走访推选代表不超过此数（第二十条）")
    channels: list[ChannelRuleRead]


CHANNEL_FIELDS: dict[Channel, list[ChannelFieldRead]] = {
    Channel.LETTER: [
        ChannelFieldRead(
            field="letter_date", label="来信日期", required=False, note="不得晚于收到日期"
        )
    ],
    Channel.VISIT: [
        ChannelFieldRead(
            field="petitioners[].representative",
            label="代表",
            required=False,
            note=f"多人走访时推选，不超过{MAX_REPRESENTATIVES}人",
        )
    ],
    Channel.PHONE: [
        ChannelFieldRead(
            field="caller_phone",
            label="来电号码",
            required=False,
            note="手机号11位，或带区号的固定电话；来电不显示号码时可不填",
        )
    ],
    Channel.ONLINE: [],
    Channel.LEADER_MAILBOX: [],
}


@router.get(
    "/registration/rules",
    response_model=RegistrationRulesRead,
    summary="登记规则 / the registration form's rules",
    dependencies=[Depends(require_roles(*PERSON_ROLES))],
)
async def registration_rules(intake: IntakeDep) -> RegistrationRulesRead:
    return RegistrationRulesRead(
        collective_threshold=intake.settings.collective_threshold,
        max_representatives=MAX_REPRESENTATIVES,
        channels=[
            ChannelRuleRead(code=c.value, label=CHANNEL_LABELS[c], fields=CHANNEL_FIELDS[c])
            for c in Channel
        ],
    )
