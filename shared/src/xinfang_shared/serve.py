"""Run a service's FastAPI app under uvicorn with JSON logs and graceful shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import FrameType

import uvicorn
from fastapi import FastAPI

from xinfang_shared import logs


class _Server(uvicorn.Server):
    """uvicorn waits for open connections before the lifespan shutdown; ``on_exit`` lets a
    service end its long-lived responses (SSE streams) as soon as a stop signal arrives."""

    on_exit: Callable[[], None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.on_exit is not None:
            try:
                asyncio.get_running_loop().call_soon_threadsafe(self.on_exit)
            except RuntimeError:
                pass
        super().handle_exit(sig, frame)


def serve(
    app: FastAPI,
    *,
    service: str,
    host: str,
    port: int,
    log_level: str,
    on_exit: Callable[[], None] | None = None,
) -> None:
    logs.configure(service, log_level)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        lifespan="on",
    )
    server = _Server(config)
    server.on_exit = on_exit
    server.run()
