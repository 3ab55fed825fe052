from __future__ import annotations

from pydantic import Field
from xinfang_shared.settings import CommonSettings, default_sqlite_url


class ReportsSettings(CommonSettings):
    database_url: str = Field(
        default_factory=lambda: default_sqlite_url("reports"),
        validation_alias="XF_REPORTS_DATABASE_URL",
    )
    port: int = Field(default=8005, ge=1, le=65535, validation_alias="XF_REPORTS_PORT")
    # a ledger export larger than this is refused (422) instead of tying up the service
    max_export_rows: int = Field(
        default=1_000_000, ge=1, validation_alias="XF_REPORTS_MAX_EXPORT_ROWS"
    )
