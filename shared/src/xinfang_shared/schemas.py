"""Typed answers shared by every service: the health probes, and the timestamp type of answers
built from stored rows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

IsoDateTime = Annotated[
    datetime,
    # as ``datetime.isoformat()`` writes it ("+00:00", not "Z"): what these answers said
    # before they were typed, and what the live stream (json.dumps of the same rows) says
    PlainSerializer(lambda v: v.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class HealthRead(BaseModel):
    """The process is alive, and what time it believes it is."""

    status: str = Field(description="ok")
    service: str
    now: IsoDateTime = Field(description="服务时钟（演示模式含偏移）/ the service's clock")
    clock_mode: str = Field(description="system | manual")
    clock_offset_s: float = Field(description="演示时钟偏移（秒）/ the manual clock's offset")


class ReadinessWarning(BaseModel):
    """Something an operator should act on (e.g. supervision: a year without a holiday
    notice); other facts of it are passed through."""

    model_config = ConfigDict(extra="allow")

    message: str
    message_en: str


class ReadinessRead(BaseModel):
    """Whether the service can do its work (answered with 503 when it cannot)."""

    status: str = Field(description="ready | not ready")
    database: str = Field(description="ok | unreachable: <error>")
    broker: str = Field(description="ok | unreachable: <error>")
    outbox_pending: int | None = Field(default=None, description="待发布的消息数")
    outbox_last_error: str | None = None
    consumer: str | None = Field(
        default=None, description="none | stopped | waiting for broker | starting | running"
    )
    events_handled: int | None = None
    events_dead_lettered: int | None = None
    warnings: dict[str, list[ReadinessWarning]] | None = Field(
        default=None, description="值得运维处理但不影响就绪的情况 / what an operator should see"
    )
