from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from xinfang_shared.runtime import ServiceRuntime, health_router

from xinfang_notify import consumers, models
from xinfang_notify.config import NotifySettings
from xinfang_notify.hub import Hub
from xinfang_notify.views import router


def bootstrap(settings: NotifySettings) -> tuple[ServiceRuntime, Hub]:
    hub = Hub()
    runtime = ServiceRuntime(
        service="notify",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(hub),
    )
    return runtime, hub


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime, hub = bootstrap(settings)
        app.state.runtime, app.state.hub = runtime, hub
        app.state.heartbeat = settings.sse_heartbeat_s
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="信访通知 Notify", version="0.1.0", lifespan=lifespan)
    app.include_router(health_router())
    app.include_router(router)
    return app
