from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from fastapi import FastAPI
from xinfang_shared import org
from xinfang_shared.auth.deps import install_auth_errors
from xinfang_shared.clock import ManualClock
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_notify import consumers, directory, login, models, reminders, service
from xinfang_notify.config import NotifySettings
from xinfang_notify.delivery import AlertEscalator, DeliveryWorker, build_channels
from xinfang_notify.hub import Hub
from xinfang_notify.render import Renderer
from xinfang_notify.views import router


@dataclass
class Notify:
    runtime: ServiceRuntime
    hub: Hub
    nc: service.NotifyContext
    worker: DeliveryWorker
    escalator: AlertEscalator


def bootstrap(settings: NotifySettings) -> Notify:
    """Wire the notify service: org tree, directory, templates, channels, worker, escalator."""
    tree = org.default_tree()
    nc = service.NotifyContext(
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
    worker_ref: list[DeliveryWorker] = []
    runtime = ServiceRuntime(
        service="notify",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(hub, nc, on_deliveries=lambda: worker_ref[0].kick()),
    )
    worker = DeliveryWorker(runtime, settings, build_channels(settings))
    worker_ref.append(worker)

    def publish(rows: list[dict[str, object]]) -> None:
        for row in rows:
            hub.publish(row)

    escalator = AlertEscalator(
        runtime, nc, interval=settings.alert_check_s, publish=publish, on_deliveries=worker.kick
    )
    if isinstance(runtime.clock, ManualClock):
        runtime.clock.on_change(escalator.kick_async)
        runtime.clock.on_change(worker.kick_async)
    return Notify(runtime, hub, nc, worker, escalator)


def create_app(settings: NotifySettings | None = None) -> FastAPI:
    settings = settings or NotifySettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        n = bootstrap(settings)
        app.state.runtime, app.state.hub, app.state.notify = n.runtime, n.hub, n
        app.state.heartbeat = settings.sse_heartbeat_s
        await n.runtime.start()
        n.runtime.add_task(n.worker.run, "delivery-worker")
        n.runtime.add_task(n.escalator.run, "alert-escalator")
        # the dashboard's login form forwards credentials to the token issuer (intake)
        app.state.login_client = httpx.AsyncClient(timeout=10.0)
        try:
            yield
        finally:
            await app.state.login_client.aclose()
            await n.runtime.stop()
            await n.worker.aclose()

    app = FastAPI(title="信访通知 Notify", version="0.2.0", lifespan=lifespan)
    install_auth_errors(app)
    app.include_router(health_router())
    app.include_router(router)
    app.include_router(login.router)
    install_platform(app, max_body_bytes=settings.max_body_bytes)
    return app
