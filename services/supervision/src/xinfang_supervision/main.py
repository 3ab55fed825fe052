"""Wiring: ``bootstrap()`` builds the service (:class:`Supervision`), ``create_app()`` the
FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from xinfang_shared import org
from xinfang_shared.auth.deps import install_auth_errors
from xinfang_shared.clock import ManualClock
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_supervision import consumers, models
from xinfang_supervision.alerts.emerging import EmergingConfig, EmergingDetector
from xinfang_supervision.alerts.views import router as alerts_router
from xinfang_supervision.calendar.views import router as calendar_router
from xinfang_supervision.cases.views import router as cases_router
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.deps import Supervision
from xinfang_supervision.profiles import default_profiles
from xinfang_supervision.reports.views import router as reports_router
from xinfang_supervision.sweep.sweeper import Sweeper
from xinfang_supervision.sweep.views import router as sweep_router
from xinfang_supervision.worklist.views import router as worklist_router


def bootstrap(settings: SupervisionSettings) -> Supervision:
    sc = SupervisionContext(
        profiles=default_profiles(),
        profile=settings.deadline_profile,
        tree=org.default_tree(),
        reminder_days=settings.reminder_days,
        grace_days=settings.escalation_grace_days,
        max_escalations=settings.max_escalations,
        backlog_after_days=settings.backlog_after_days,
        repeat_wave_threshold=settings.repeat_wave_threshold,
        repeat_wave_days=settings.repeat_wave_days,
        deployment=settings.deployment,
    )
    sc.deployment.check(sc.tree)
    detector = EmergingDetector(
        config=EmergingConfig(
            window_s=settings.emerging_window_h * 3600,
            step_s=settings.emerging_step_h * 3600,
            threshold=settings.emerging_threshold,
        ),
        tree=sc.tree,
        partitions=settings.topic_partitions,
        deployment=sc.deployment,
    )
    sweeper = Sweeper(settings, sc)
    runtime = ServiceRuntime(
        service="supervision",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(sc, on_new_deadlines=sweeper.kick),
        faust_setup=detector.install,
    )
    sweeper.bind(runtime)
    detector.bind(sessions=runtime.sessions, clock=runtime.clock.now, on_commit=runtime.relay.wake)
    if isinstance(runtime.clock, ManualClock):
        runtime.clock.on_change(sweeper.kick_async)
    return Supervision(runtime=runtime, context=sc, sweeper=sweeper, detector=detector)


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sup = bootstrap(settings)
        app.state.runtime = sup.runtime  # xinfang_shared.runtime's RuntimeDep and SessionDep
        app.state.supervision = sup  # SupervisionDep
        await sup.runtime.start()
        sup.runtime.add_task(sup.sweeper.run, "deadline-sweeper")
        try:
            yield
        finally:
            await sup.runtime.stop()

    app = FastAPI(title="信访督办 Supervision", version="0.3.0", lifespan=lifespan)
    install_auth_errors(app)
    app.include_router(health_router())
    for router in (
        cases_router,
        worklist_router,
        reports_router,
        alerts_router,
        calendar_router,
        sweep_router,
    ):
        app.include_router(router)
    install_platform(app, max_body_bytes=settings.max_body_bytes, home="/docs")
    return app
