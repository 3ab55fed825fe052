from __future__ import annotations

from pydantic import Field
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class RoutingSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("routing"),
        validation_alias="XF_ROUTING_DATABASE_URL",
    )
    port: int = Field(default=8002, ge=1, le=65535, validation_alias="XF_ROUTING_PORT")
