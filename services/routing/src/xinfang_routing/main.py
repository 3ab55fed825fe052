from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from xinfang_shared.runtime import ServiceRuntime, SessionDep, health_router

from xinfang_routing import consumers, models, service
from xinfang_routing.config import RoutingSettings

router = APIRouter(prefix="/api/v1", tags=["routing 分办"])


@router.get("/cases/{case_id}/hops", summary="分办记录 / routing hops of a case")
async def case_hops(case_id: str, session: SessionDep) -> list[dict[str, Any]]:
    return await service.list_hops(session=session, case_id=case_id)


def bootstrap(settings: RoutingSettings) -> ServiceRuntime:
    return ServiceRuntime(
        service="routing",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
    )


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = bootstrap(settings)
        await app.state.runtime.start()
        try:
            yield
        finally:
            await app.state.runtime.stop()

    app = FastAPI(title="信访分办 Routing", version="0.1.0", lifespan=lifespan)
    app.include_router(health_router())
    app.include_router(router)
    return app
