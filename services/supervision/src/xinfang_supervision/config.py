from __future__ import annotations

from pydantic import Field, field_validator
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class SupervisionSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("supervision"),
        validation_alias="XF_SUPERVISION_DATABASE_URL",
    )
    port: int = Field(default=8003, ge=1, le=65535, validation_alias="XF_SUPERVISION_PORT")
    sweep_interval_s: float = Field(default=30.0, gt=0, validation_alias="XF_SWEEP_INTERVAL_S")
    sweep_batch: int = Field(default=1000, ge=1, validation_alias="XF_SWEEP_BATCH")
    reminder_days: tuple[int, ...] = Field(default=(7, 3, 1), validation_alias="XF_REMINDER_DAYS")

    @field_validator("reminder_days", mode="before")
    @classmethod
    def _days(cls, v: object) -> object:
        if isinstance(v, str):
            v = [int(x) for x in v.replace(" ", "").split(",") if x]
        return v

    @field_validator("reminder_days")
    @classmethod
    def _positive(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if any(d <= 0 for d in v) or len(set(v)) != len(v):
            raise ValueError("reminder_days must be distinct positive day counts, e.g. 7,3,1")
        return tuple(sorted(v, reverse=True))
