from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from xinfang_shared.settings import CommonSettings, default_sqlite_url

from xinfang_intake.petitions.sealing import DEMO_INFORMANT_KEY, InvalidKey, parse_key


class IntakeSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("intake"),
        validation_alias="XF_INTAKE_DATABASE_URL",
    )
    port: int = Field(default=8001, ge=1, le=65535, validation_alias="XF_INTAKE_PORT")
    max_body_bytes: int = Field(
        default=1_000_000, ge=10_000, validation_alias="XF_INTAKE_MAX_BODY_BYTES"
    )
    collective_threshold: int = Field(default=5, ge=2, validation_alias="XF_COLLECTIVE_THRESHOLD")
    case_number_block: int = Field(
        default=50, ge=1, le=10_000, validation_alias="XF_INTAKE_CASE_NUMBER_BLOCK"
    )
    max_inflight: int = Field(
        default=64,
        ge=1,
        validation_alias="XF_INTAKE_MAX_INFLIGHT",
        description="registrations in progress at once per replica; more get 503 + Retry-After",
    )
    rate_per_client: float = Field(
        default=50.0,
        gt=0,
        validation_alias="XF_INTAKE_RATE_PER_CLIENT",
        description="registrations per second per logged-in account (else per address)",
    )
    burst_per_client: int = Field(default=100, ge=1, validation_alias="XF_INTAKE_BURST_PER_CLIENT")
    received_max_skew_s: int = Field(
        default=300,
        ge=0,
        le=86_400,
        validation_alias="XF_INTAKE_RECEIVED_MAX_SKEW_S",
        description="how far in the future a registration's received_at may be (clock skew)",
    )
    received_max_age_days: int = Field(
        default=366,
        ge=1,
        le=36_500,
        validation_alias="XF_INTAKE_RECEIVED_MAX_AGE_DAYS",
        description="how long ago a registration's received_at may be",
    )
    retry_after_s: int = Field(default=2, ge=1, le=600, validation_alias="XF_INTAKE_RETRY_AFTER_S")
    id_hash_salt: str = Field(
        default="xinfang-demo-salt-change-me", min_length=8, validation_alias="XF_ID_HASH_SALT"
    )
    informant_key: str = Field(
        default=DEMO_INFORMANT_KEY,
        validation_alias="XF_INFORMANT_KEY",
        description="AES-256-GCM key (base64 of 32 random bytes) that encrypts the identity of "
        "informants in accusation cases (检举控告) at rest. The default is a public demo value. "
        "Losing the key makes every sealed identity unreadable.",
    )
    users_file: Path | None = Field(
        default=None,
        validation_alias="XF_INTAKE_USERS_FILE",
        description="YAML list of accounts created at start when missing (username, "
        "display_name, password, role, org_code): the first administrator, demo users",
    )

    @field_validator("informant_key")
    @classmethod
    def _informant_key(cls, v: str) -> str:
        try:
            parse_key(v)
        except InvalidKey as exc:
            raise ValueError(str(exc)) from None
        return v.strip()
