from __future__ import annotations

from pydantic import Field
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class NotifySettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("notify"),
        validation_alias="XF_NOTIFY_DATABASE_URL",
    )
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="XF_NOTIFY_PORT")
    sse_heartbeat_s: float = Field(default=15.0, gt=0, validation_alias="XF_SSE_HEARTBEAT_S")
