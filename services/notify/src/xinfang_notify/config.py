from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class NotifySettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("notify"),
        validation_alias="XF_NOTIFY_DATABASE_URL",
    )
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="XF_NOTIFY_PORT")
    sse_heartbeat_s: float = Field(default=15.0, gt=0, validation_alias="XF_SSE_HEARTBEAT_S")
    directory_file: Path | None = Field(default=None, validation_alias="XF_NOTIFY_DIRECTORY_FILE")
    # links in messages
    public_url: str = Field(
        default="http://127.0.0.1:8004", validation_alias="XF_NOTIFY_PUBLIC_URL"
    )
    intake_public_url: str = Field(
        default="http://127.0.0.1:8001", validation_alias="XF_INTAKE_PUBLIC_URL"
    )
    # the dashboard's login form forwards the credentials to intake's POST /api/v1/auth/token
    auth_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias="XF_NOTIFY_AUTH_URL",
        description="base URL of the service that issues tokens (intake)",
    )
    cookie_secure: bool = Field(
        default=False,
        validation_alias="XF_NOTIFY_COOKIE_SECURE",
        description="send the dashboard's session cookie over HTTPS only (set behind TLS)",
    )
    # alerts that must be acknowledged go one level up after this long (seed 002: 1 hour)
    ack_timeout_min: float = Field(default=60, gt=0, validation_alias="XF_ALERT_ACK_TIMEOUT_MIN")
    # at the top of the tree there is nobody further up: its leadership is reminded after
    # these hours (from when the alert reached it), then every XF_ALERT_REMIND_EVERY_H, at most
    # XF_ALERT_REMIND_MAX times; periods missed (a clock jump, a stopped service) are one reminder
    alert_remind_after_h: list[float] = Field(
        default=[1, 4, 24], validation_alias="XF_ALERT_REMIND_AFTER_H"
    )
    alert_remind_every_h: float = Field(
        default=24, gt=0, validation_alias="XF_ALERT_REMIND_EVERY_H"
    )
    alert_remind_max: int = Field(default=7, ge=0, le=100, validation_alias="XF_ALERT_REMIND_MAX")
    alert_check_s: float = Field(default=5.0, gt=0, validation_alias="XF_ALERT_CHECK_S")
    # delivery
    max_attempts: int = Field(default=6, ge=1, le=50, validation_alias="XF_DELIVERY_MAX_ATTEMPTS")
    backoff_base_s: float = Field(default=2.0, gt=0, validation_alias="XF_DELIVERY_BACKOFF_S")
    backoff_cap_s: float = Field(default=600.0, gt=0, validation_alias="XF_DELIVERY_BACKOFF_CAP_S")
    rate_per_min: dict[str, float] = Field(
        default={"email": 60, "sms": 30, "wecom": 20, "dingtalk": 20},
        validation_alias="XF_RATE_LIMIT_PER_MIN",
        description="per address and channel; urgent messages are not limited",
    )
    quiet_hours: tuple[int, int] | None = Field(
        default=(22, 7),
        validation_alias="XF_QUIET_HOURS",
        description="local hours [start, end) when non-urgent SMS and e-mail wait; '' = none",
    )
    # channels (a channel with no configuration is skipped, and says so in the delivery log)
    smtp_host: str | None = Field(default=None, validation_alias="XF_SMTP_HOST")
    smtp_port: int = Field(default=25, ge=1, le=65535, validation_alias="XF_SMTP_PORT")
    smtp_sender: str = Field(default="xinfang@localhost", validation_alias="XF_SMTP_SENDER")
    smtp_username: str | None = Field(default=None, validation_alias="XF_SMTP_USERNAME")
    smtp_password: str | None = Field(default=None, validation_alias="XF_SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, validation_alias="XF_SMTP_STARTTLS")
    sms_gateway_url: str | None = Field(default=None, validation_alias="XF_SMS_GATEWAY_URL")
    sms_api_key: str | None = Field(default=None, validation_alias="XF_SMS_API_KEY")
    sms_sign_name: str = Field(default="信访", validation_alias="XF_SMS_SIGN_NAME")
    sms_templates: dict[str, str] = Field(
        default={},
        validation_alias="XF_SMS_TEMPLATES",
        description="message kind → the gateway's template id (JSON); default: the kind itself",
    )

    @field_validator("auth_url")
    @classmethod
    def _valid_auth_url(cls, v: str) -> str:
        parts = urlsplit(v.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                "XF_NOTIFY_AUTH_URL must be an http(s) URL of intake, e.g. http://127.0.0.1:8001"
            )
        if parts.query or parts.fragment:
            raise ValueError("XF_NOTIFY_AUTH_URL is a base URL: no query or fragment")
        return v.strip().rstrip("/")

    @field_validator("alert_remind_after_h")
    @classmethod
    def _valid_remind_after(cls, v: list[float]) -> list[float]:
        if any(h <= 0 for h in v):
            raise ValueError("XF_ALERT_REMIND_AFTER_H: hours after the alert reached the top, > 0")
        return sorted(v)

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _hours(cls, v: object) -> object:
        if isinstance(v, str):
            if not v.strip():
                return None
            a, _, b = v.partition("-")
            return (int(a), int(b))
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _valid_hours(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and not all(0 <= h <= 23 for h in v):
            raise ValueError("XF_QUIET_HOURS is 'start-end' in local hours 0-23, e.g. 22-7")
        return v
