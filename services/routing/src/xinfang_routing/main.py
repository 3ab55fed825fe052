"""Wiring: ``bootstrap()`` builds the routing service (one :class:`~xinfang_routing.deps.Routing`),
``create_app()`` the FastAPI application that starts and stops it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from xinfang_shared import classifier as learned
from xinfang_shared import org
from xinfang_shared.auth.deps import get_org_tree, install_auth_errors
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import install_platform

from xinfang_routing import consumers, models
from xinfang_routing.cases.views import router as cases_router
from xinfang_routing.catalog.views import router as catalog_router
from xinfang_routing.config import RoutingSettings
from xinfang_routing.context import RoutingContext
from xinfang_routing.deps import Routing, RoutingDep
from xinfang_routing.orgtree import service as orgtree
from xinfang_routing.orgtree.views import router as orgtree_router
from xinfang_routing.repeats.matching import RepeatIndex
from xinfang_routing.repeats.service import refresh_index
from xinfang_routing.rules import default_rules
from xinfang_routing.triage.views import router as triage_router


def bootstrap(settings: RoutingSettings) -> Routing:
    ctx = RoutingContext(
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
    return Routing(runtime=runtime, ctx=ctx)


async def prepare(routing: Routing) -> None:
    """Load the stored org tree (storing the configured one on first start) and the index."""
    runtime, ctx = routing.runtime, routing.ctx
    await runtime.upgrade_schema()
    async with runtime.sessions() as session, session.begin():
        found = await orgtree.active_org_tree(session=session)
        if found is None:
            found = await orgtree.store_org_tree(
                session=session,
                text=org.default_tree_text(),
                actor="startup",
                now=runtime.clock.now(),
            )
        ctx.tree, ctx.tree_version_id = found
        await refresh_index(session=session, index=ctx.index)


async def routing_tree(routing: RoutingDep) -> org.OrgTree:
    """Scopes are checked against the tree routing routes by (the newest loaded version)."""
    return routing.ctx.tree


def create_app(settings: RoutingSettings | None = None) -> FastAPI:
    settings = settings or RoutingSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        routing = bootstrap(settings)
        app.state.runtime, app.state.routing = routing.runtime, routing
        await prepare(routing)
        await routing.runtime.start()
        try:
            yield
        finally:
            await routing.runtime.stop()

    app = FastAPI(title="信访分办 Routing", version="0.2.0", lifespan=lifespan)
    install_auth_errors(app)
    app.dependency_overrides[get_org_tree] = routing_tree
    app.include_router(health_router())
    app.include_router(cases_router)
    app.include_router(orgtree_router)
    app.include_router(catalog_router)
    app.include_router(triage_router)
    # an org tree may be up to org.MAX_TREE_BYTES (its own check answers 413 past that)
    body_limit = max(settings.max_body_bytes, org.MAX_TREE_BYTES + 64_000)
    install_platform(app, max_body_bytes=body_limit, home="/docs")
    return app
