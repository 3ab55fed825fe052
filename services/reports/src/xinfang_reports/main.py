"""Wiring: ``bootstrap()`` builds the service (:class:`Reports`), ``create_app()`` the FastAPI
application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from xinfang_shared import org
from xinfang_shared.auth.deps import install_auth_errors
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_reports import consumers, models
from xinfang_reports.config import ReportsSettings
from xinfang_reports.deps import Reports
from xinfang_reports.ledger.views import router as ledger_router
from xinfang_reports.periodic.views import router as periodic_router
from xinfang_reports.stats.views import router as stats_router

ROUTERS = (stats_router, ledger_router, periodic_router)


def bootstrap(settings: ReportsSettings) -> Reports:
    tree = org.default_tree()
    runtime = ServiceRuntime(
        service="reports",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(),
    )
    return Reports(runtime=runtime, settings=settings, tree=tree)


def create_app(settings: ReportsSettings | None = None) -> FastAPI:
    settings = settings or ReportsSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        reports = bootstrap(settings)
        app.state.runtime = reports.runtime  # xinfang_shared.runtime's RuntimeDep and SessionDep
        app.state.reports = reports  # ReportsDep
        await reports.runtime.start()
        try:
            yield
        finally:
            await reports.runtime.stop()

    app = FastAPI(title="信访统计 Reports", version="0.1.0", lifespan=lifespan)
    install_auth_errors(app)
    app.include_router(health_router())
    for router in ROUTERS:
        app.include_router(router)
    install_platform(app, max_body_bytes=settings.max_body_bytes, home="/docs")
    return app


__all__ = ["ROUTERS", "ServiceRuntime", "bootstrap", "create_app"]
