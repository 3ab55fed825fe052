"""Wiring: ``bootstrap()`` builds the notify service (one :class:`~xinfang_notify.deps.Notify`),
``create_app()`` the FastAPI application that starts and stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from xinfang_shared import org
from xinfang_shared.auth.deps import install_auth_errors
from xinfang_shared.clock import ManualClock
from xinfang_shared.loop import Kickable
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_notify import consumers, directory, models
from xinfang_notify.config import NotifySettings
from xinfang_notify.context import NotifyContext
from xinfang_notify.dashboard.views import router as dashboard_router
from xinfang_notify.delivery import reminders
from xinfang_notify.delivery.escalator import AlertEscalator
from xinfang_notify.delivery.service import DeliveryWorker, build_channels
from xinfang_notify.deps import Notify
from xinfang_notify.notifications.hub import Hub
from xinfang_notify.notifications.render import Renderer
from xinfang_notify.notifications.views import router as notifications_router


def bootstrap(settings: NotifySettings) -> Notify:
    """Wire the notify service: org tree, directory, templates, channels, worker, escalator."""
    tree = org.default_tree()
    nc = NotifyContext(
        tree=tree,
        directory=directory.load(settings.directory_file, tree),
        renderer=Renderer(),
        public_url=settings.public_url.rstrip("/"),
        intake_public_url=settings.intake_public_url.rstrip("/"),
        ack_timeout=timedelta(minutes=settings.ack_timeout_min),
        reminder_points=reminders.schedule(
            settings.alert_remind_after_h, settings.alert_remind_every_h, settings.alert_remind_max
        ),
        sms_templates=settings.sms_templates,
        deployment=settings.deployment,
    )
    nc.deployment.check(tree)
    hub = Hub()
    deliveries_queued = Kickable()  # the delivery worker's wake-up: new deliveries wait
    runtime = ServiceRuntime(
        service="notify",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(hub, nc, on_deliveries=deliveries_queued.kick),
    )
    worker = DeliveryWorker(runtime, settings, build_channels(settings), wake=deliveries_queued)

    def publish(rows: list[dict[str, object]]) -> None:
        for row in rows:
            hub.publish(row)

    escalator = AlertEscalator(
        runtime, nc, interval=settings.alert_check_s, publish=publish, on_deliveries=worker.kick
    )
    if isinstance(runtime.clock, ManualClock):
        runtime.clock.on_change(escalator.kick_async)
        runtime.clock.on_change(worker.kick_async)
    return Notify(
        runtime=runtime,
        settings=settings,
        nc=nc,
        hub=hub,
        worker=worker,
        escalator=escalator,
        login_client=httpx.AsyncClient(timeout=10.0),
    )


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        notify = bootstrap(settings)
        app.state.runtime, app.state.notify = notify.runtime, notify
        await notify.runtime.start()
        notify.runtime.add_task(notify.worker.run, "delivery-worker")
        notify.runtime.add_task(notify.escalator.run, "alert-escalator")
        try:
            yield
        finally:
            await notify.login_client.aclose()
            await notify.runtime.stop()
            await notify.worker.aclose()

    app = FastAPI(title="信访通知 Notify", version="0.2.0", lifespan=lifespan)
    install_auth_errors(app)
    app.include_router(health_router())
    app.include_router(notifications_router)
    app.include_router(dashboard_router)
    install_platform(app, max_body_bytes=settings.max_body_bytes)
    return app
