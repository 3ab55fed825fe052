"""Wiring: ``bootstrap()`` builds the intake service (one :class:`~xinfang_intake.deps.Intake`),
``create_app()`` the FastAPI application that starts and stops it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import yaml
from fastapi import FastAPI
from xinfang_shared import classifier
from xinfang_shared.auth.deps import install_auth_errors
from xinfang_shared.auth.service import seed_users
from xinfang_shared.auth.views import auth_router
from xinfang_shared.ratelimit import RateLimiter
from xinfang_shared.runtime import ServiceRuntime, health_router
from xinfang_shared.web import DOCS_LINK, install_platform

from xinfang_intake import consumers
from xinfang_intake.config import IntakeSettings
from xinfang_intake.deps import Intake
from xinfang_intake.directory.views import router as directory_router
from xinfang_intake.petitions import models
from xinfang_intake.petitions.informants import router as informants_router
from xinfang_intake.petitions.numbering import CaseNumberAllocator
from xinfang_intake.petitions.pages import router as pages_router
from xinfang_intake.petitions.rules import router as rules_router
from xinfang_intake.petitions.sealing import DEMO_INFORMANT_KEY, InformantCipher, parse_key
from xinfang_intake.petitions.views import router as petitions_router
from xinfang_intake.petitions.writer import RegistrationWriter
from xinfang_intake.records.views import router as records_router

log = logging.getLogger(__name__)


def bootstrap(settings: IntakeSettings) -> Intake:
    runtime = ServiceRuntime(
        service="intake",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.HANDLERS,
        ready_without_broker=True,
    )
    numbers = CaseNumberAllocator(runtime.engine, block_size=settings.case_number_block)
    source = f"/xinfang/intake/{settings.org_scope}"
    cipher = InformantCipher(parse_key(settings.informant_key))
    return Intake(
        runtime=runtime,
        settings=settings,
        limiter=RateLimiter(settings.rate_per_client, settings.burst_per_client),
        writer=RegistrationWriter(
            sessions=runtime.sessions,
            numbers=numbers,
            clock=runtime.clock,
            source=source,
            id_salt=settings.id_hash_salt,
            collective_threshold=settings.collective_threshold,
            cipher=cipher,
            model=classifier.load(),
            on_commit=runtime.relay.wake,
        ),
        cipher=cipher,  # 检举控告: seals and reveals informants' identities
    )


async def seed_users_from_file(runtime: ServiceRuntime, path: Path) -> None:
    """Create the accounts listed in ``path`` that do not exist yet (idempotent)."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    users = yaml.safe_load(text) or []
    async with runtime.sessions() as session, session.begin():
        created = await seed_users(session=session, users=users, now=runtime.clock.now())
    if created:
        log.info("created %d accounts from %s", len(created), path)


def create_app(settings: IntakeSettings | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        intake = bootstrap(settings)
        runtime = intake.runtime
        if settings.informant_key == DEMO_INFORMANT_KEY:
            log.warning(
                "XF_INFORMANT_KEY is the public demo value: anyone can read sealed informants; "
                "set it outside the demo (使用演示密钥，生产环境必须设置 XF_INFORMANT_KEY)"
            )
        app.state.runtime, app.state.intake = runtime, intake
        await runtime.start()
        if settings.users_file is not None:
            await seed_users_from_file(runtime, settings.users_file)
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="信访事项登记 Intake",
        version="0.1.0",
        description="登记来信、来访、来电、网上信访和领导信箱事项，发布 petition.received 事件。",
        lifespan=lifespan,
    )
    install_auth_errors(app)
    app.include_router(health_router())
    app.include_router(petitions_router)
    app.include_router(informants_router)
    app.include_router(records_router)
    app.include_router(directory_router)
    app.include_router(rules_router)
    app.include_router(pages_router)
    app.include_router(auth_router())  # login and user administration
    install_platform(
        app,
        max_body_bytes=settings.max_body_bytes,
        max_inflight=settings.max_inflight,
        retry_after_s=settings.retry_after_s,
        home="/cx",
        home_links=[
            {"href": "/cx", "title": "信访事项查询（群众） / look up a petition"},
            DOCS_LINK,
        ],
    )
    return app
