from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from xinfang_shared import classifier as learned
from xinfang_shared import org
from xinfang_shared.auth.deps import get_org_tree, install_auth_errors
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_routing import consumers, models, service
from xinfang_routing.config import RoutingSettings
from xinfang_routing.repeats import RepeatIndex
from xinfang_routing.rules import default_rules
from xinfang_routing.views import router


def bootstrap(settings: RoutingSettings) -> tuple[ServiceRuntime, service.RoutingContext]:
    ctx = service.RoutingContext(
        rules=default_rules(),
        model=learned.load(),  # read once, at start
        index=RepeatIndex(threshold=settings.repeat_threshold),
        tree=org.default_tree(),
        id_salt=settings.id_hash_salt,
        same_letter_threshold=settings.same_letter_threshold,
        deployment=settings.deployment,
    )
    ctx.deployment.check(ctx.tree)
    runtime = ServiceRuntime(
        service="routing",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(ctx),
        on_rollback=ctx.index.invalidate,
    )
    return runtime, ctx


async def prepare(runtime: ServiceRuntime, ctx: service.RoutingContext) -> None:
    """Load the stored org tree (storing the configured one on first start) and the index."""
    await runtime.upgrade_schema()
    async with runtime.sessions() as session, session.begin():
        found = await service.active_org_tree(session=session)
        if found is None:
            found = await service.store_org_tree(
                session=session,
                text=org.default_tree_text(),
                actor="startup",
                now=runtime.clock.now(),
            )
        ctx.tree, ctx.tree_version_id = found
        await service.refresh_index(session=session, index=ctx.index)


async def routing_tree(request: Request) -> org.OrgTree:
    """Scopes are checked against the tree routing routes by (the newest loaded version)."""
    ctx: service.RoutingContext = request.app.state.routing
    return ctx.tree


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime, ctx = bootstrap(settings)
        app.state.runtime, app.state.routing = runtime, ctx
        await prepare(runtime, ctx)
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="信访分办 Routing", version="0.2.0", lifespan=lifespan)
    install_auth_errors(app)
    app.dependency_overrides[get_org_tree] = routing_tree
    app.include_router(health_router())
    app.include_router(router)
    # an org tree may be up to org.MAX_TREE_BYTES (its own check answers 413 past that)
    body_limit = max(settings.max_body_bytes, org.MAX_TREE_BYTES + 64_000)
    install_platform(app, max_body_bytes=body_limit, home="/docs")
    return app
