from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from xinfang_shared.clock import ManualClock
from xinfang_shared.runtime import ServiceRuntime, SessionDep, health_router

from xinfang_supervision import consumers, models, service
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.sweeper import Sweeper

router = APIRouter(prefix="/api/v1", tags=["supervision 督办"])


@router.get("/cases/{case_id}/deadlines", summary="案件期限 / deadlines of a case")
async def case_deadlines(case_id: str, session: SessionDep) -> list[dict[str, Any]]:
    return await service.list_deadlines(session=session, case_id=case_id)


@router.post("/sweep", summary="立即检查到期事项 / run a deadline sweep now")
async def sweep_now(request: Request) -> dict[str, int]:
    sweeper: Sweeper = request.app.state.sweeper
    return {"examined": await sweeper.sweep_once()}


def bootstrap(settings: SupervisionSettings) -> tuple[ServiceRuntime, Sweeper]:
    sweeper_ref: list[Sweeper] = []
    runtime = ServiceRuntime(
        service="supervision",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(
            reminder_days=settings.reminder_days, on_new_deadlines=lambda: sweeper_ref[0].kick()
        ),
    )
    sweeper = Sweeper(runtime, settings)
    sweeper_ref.append(sweeper)
    if isinstance(runtime.clock, ManualClock):
        runtime.clock.on_change(sweeper.kick_async)
    return runtime, sweeper


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime, sweeper = bootstrap(settings)
        app.state.runtime, app.state.sweeper = runtime, sweeper
        await runtime.start()
        runtime.add_task(sweeper.run, "deadline-sweeper")
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="信访督办 Supervision", version="0.1.0", lifespan=lifespan)
    app.include_router(health_router())
    app.include_router(router)
    return app
