from __future__ import annotations

from pydantic import Field, field_validator, model_validator
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class SupervisionSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("supervision"),
        validation_alias="XF_SUPERVISION_DATABASE_URL",
    )
    port: int = Field(default=8003, ge=1, le=65535, validation_alias="XF_SUPERVISION_PORT")
    sweep_interval_s: float = Field(default=30.0, gt=0, validation_alias="XF_SWEEP_INTERVAL_S")
    sweep_batch: int = Field(default=5000, ge=1, validation_alias="XF_SWEEP_BATCH")
    reminder_days: tuple[int, ...] = Field(default=(7, 3, 1), validation_alias="XF_REMINDER_DAYS")
    deadline_profile: str = Field(default="national", validation_alias="XF_DEADLINE_PROFILE")
    escalation_grace_days: int = Field(default=7, ge=1, validation_alias="XF_ESCALATION_GRACE_DAYS")
    max_escalations: int = Field(default=3, ge=0, le=10, validation_alias="XF_MAX_ESCALATIONS")
    backlog_after_days: int = Field(default=90, ge=1, validation_alias="XF_BACKLOG_AFTER_DAYS")
    # 群体性苗头: distinct petitioners from one place about one matter within a sliding window
    emerging_window_h: float = Field(default=24, gt=0, validation_alias="XF_EMERGING_WINDOW_H")
    emerging_step_h: float = Field(default=1, gt=0, validation_alias="XF_EMERGING_STEP_H")
    emerging_threshold: int = Field(default=5, ge=2, validation_alias="XF_EMERGING_THRESHOLD")
    # a case that comes back this many times within this many days raises a repeat-wave alert
    repeat_wave_threshold: int = Field(default=3, ge=2, validation_alias="XF_REPEAT_WAVE_THRESHOLD")
    repeat_wave_days: int = Field(default=7, ge=1, validation_alias="XF_REPEAT_WAVE_DAYS")

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

    @model_validator(mode="after")
    def _window(self) -> SupervisionSettings:
        if self.emerging_step_h > self.emerging_window_h:
            raise ValueError("XF_EMERGING_STEP_H must not exceed XF_EMERGING_WINDOW_H")
        if self.emerging_window_h / self.emerging_step_h > 168:
            raise ValueError("at most 168 overlapping windows (XF_EMERGING_WINDOW_H / STEP_H)")
        return self

    @field_validator("deadline_profile")
    @classmethod
    def _profile(cls, v: str) -> str:
        from xinfang_supervision.profiles import default_profiles

        if v not in default_profiles():
            raise ValueError(f"unknown deadline profile {v!r}; known: {sorted(default_profiles())}")
        return v
