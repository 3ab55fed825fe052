from __future__ import annotations

from pydantic import Field
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class RoutingSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("routing"),
        validation_alias="XF_ROUTING_DATABASE_URL",
    )
    port: int = Field(default=8002, ge=1, le=65535, validation_alias="XF_ROUTING_PORT")
    id_hash_salt: str = Field(
        default="xinfang-demo-salt-change-me", min_length=8, validation_alias="XF_ID_HASH_SALT"
    )
    repeat_threshold: float = Field(
        default=0.15, gt=0, le=1, validation_alias="XF_REPEAT_THRESHOLD"
    )
    same_letter_threshold: float = Field(
        default=0.6, gt=0, le=1, validation_alias="XF_SAME_LETTER_THRESHOLD"
    )
