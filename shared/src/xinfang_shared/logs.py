"""Structured JSON logs on stdout: one object per line, with service name and extra fields."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_STD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in record.__dict__.items():
            if k not in _STD and not k.startswith("_"):
                doc[k] = v if isinstance(v, str | int | float | bool | None) else str(v)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


class BenignRecoveryNoise(logging.Filter):
    """Drops two faust messages that a healthy service logs once per changelog record.

    After recovery, faust's changelog reader sometimes keeps receiving the records this app's
    own table writes to its changelog (supervision's emerging-incident windows: one record per
    window an event falls in). faust then logs "recovery unknown topic <changelog> offset N",
    falls through (a bug its own source notes) and fails on an unset local, logged as "Error in
    recovery cannot access local variable 'offsets' ...", and the loop goes on. Nothing is
    lost: the table already holds what it wrote. Every other recovery message passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if msg.startswith("recovery unknown topic ") and "-changelog'" in msg:
            return False
        return not (msg.startswith("Error in recovery ") and "local variable 'offsets'" in msg)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Libraries that are chatty at INFO.
    for noisy in ("aiokafka", "faust", "mode", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    recovery = logging.getLogger("faust.tables.recovery")
    if not any(isinstance(f, BenignRecoveryNoise) for f in recovery.filters):
        recovery.addFilter(BenignRecoveryNoise())
