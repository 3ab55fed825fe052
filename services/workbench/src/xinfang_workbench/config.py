from __future__ import annotations

from pydantic import Field
from xinfang_shared.settings import CommonSettings


class WorkbenchSettings(CommonSettings):
    """Where the five services answer (the workbench calls only their HTTP APIs) and how its
    session cookie is sent."""

    port: int = Field(default=8000, ge=1, le=65535, validation_alias="XF_WORKBENCH_PORT")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias="XF_WORKBENCH_PUBLIC_URL",
        description="the address people open (for the same-origin check of form posts)",
    )
    intake_url: str = Field(default="http://127.0.0.1:8001", validation_alias="XF_INTAKE_URL")
    routing_url: str = Field(default="http://127.0.0.1:8002", validation_alias="XF_ROUTING_URL")
    supervision_url: str = Field(
        default="http://127.0.0.1:8003", validation_alias="XF_SUPERVISION_URL"
    )
    notify_url: str = Field(default="http://127.0.0.1:8004", validation_alias="XF_NOTIFY_URL")
    reports_url: str = Field(default="http://127.0.0.1:8005", validation_alias="XF_REPORTS_URL")
    api_timeout_s: float = Field(
        default=15.0, gt=0, le=120, validation_alias="XF_WORKBENCH_API_TIMEOUT_S"
    )
    export_timeout_s: float = Field(
        default=120.0,
        gt=0,
        le=900,
        validation_alias="XF_WORKBENCH_EXPORT_TIMEOUT_S",
        description="how long an export (台账 .xlsx/.csv) may wait for the next chunk",
    )
    cookie_secure: bool = Field(
        default=False,
        validation_alias="XF_WORKBENCH_COOKIE_SECURE",
        description="send the session cookie over HTTPS only (set behind TLS)",
    )

    def service_urls(self) -> dict[str, str]:
        return {
            "intake": self.intake_url.rstrip("/"),
            "routing": self.routing_url.rstrip("/"),
            "supervision": self.supervision_url.rstrip("/"),
            "notify": self.notify_url.rstrip("/"),
            "reports": self.reports_url.rstrip("/"),
        }
