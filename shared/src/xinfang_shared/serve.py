"""Run a service's FastAPI app under uvicorn with JSON logs and graceful shutdown."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from xinfang_shared import logs


def serve(app: FastAPI, *, service: str, host: str, port: int, log_level: str) -> None:
    logs.configure(service, log_level)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
