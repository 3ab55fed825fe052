"""What every service process runs besides its own logic: the database engine, the outbox relay,
the faust consumer, the clock (and its follower in manual mode), health and readiness.

A service builds one :class:`ServiceRuntime` in its ``bootstrap()`` and starts/stops it from the
FastAPI lifespan. Nothing here connects at import time.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import faust
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy import MetaData, Table
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_shared import db, kafka, migrate
from xinfang_shared.auth.revocation import Revocations, revocations_table, store_revocation
from xinfang_shared.clock import ClockFollower, ManualClock, SystemClock, build_clock
from xinfang_shared.consumer import EventProcessor, Handler, HandlerContext, build_faust_app
from xinfang_shared.events import TokensRevoked
from xinfang_shared.outbox import OutboxRelay
from xinfang_shared.retry import Backoff, retry
from xinfang_shared.schemas import HealthRead, ReadinessRead
from xinfang_shared.settings import DEMO_AUTH_SECRET, CommonSettings

log = logging.getLogger(__name__)


class ServiceRuntime:
    def __init__(
        self,
        *,
        service: str,
        settings: CommonSettings,
        database_url: str,
        metadata: MetaData,
        outbox: Table,
        processed: Table,
        consumes: list[str] | None = None,
        handlers: dict[str, Handler] | None = None,
        clock: SystemClock | ManualClock | None = None,
        on_rollback: Callable[[], None] = lambda: None,
        faust_setup: Callable[[faust.App], None] | None = None,
        ready_without_broker: bool = False,
    ) -> None:
        self.service = service
        self.settings = settings
        # what an operator should act on without the service being unready (readyz shows it)
        self.warnings: dict[str, Any] = {}
        kafka.forbid_topic_auto_creation()  # faust's clients too: topics come from the launcher
        # intake takes petitions while the broker is away (outbox): it stays in service
        self.ready_without_broker = ready_without_broker
        self.metadata = metadata
        self.database_url = database_url
        self._schema_upgraded = False
        self.engine = db.create_engine(
            database_url, timeout_s=settings.db_timeout_s, pool_size=settings.db_pool_size
        )
        self.sessions = db.sessionmaker(self.engine)
        self.clock = clock or build_clock(settings.clock_mode)
        self.outbox = outbox
        self.relay = OutboxRelay(
            engine=self.engine,
            sessions=self.sessions,
            outbox=outbox,
            servers=settings.bootstrap_list,
            on_reset=self.rewind_consumer,
        )
        self.processor: EventProcessor | None = None
        self.faust_app: faust.App | None = None
        # tokens revoked before they expire (auth.revocation): every consuming service keeps them
        self.revocations = Revocations()
        self._revocations = revocations_table(metadata)
        if consumes:
            consumes = [*consumes, TokensRevoked.TOPIC]
            handlers = {**(handlers or {}), TokensRevoked.TYPE: self._on_tokens_revoked}
            self.processor = EventProcessor(
                service=service,
                sessions=self.sessions,
                processed=processed,
                outbox=outbox,
                handlers=handlers,
                clock=self.clock,
                on_commit=self.relay.wake,
                on_rollback=on_rollback,
            )
            self.faust_app = build_faust_app(
                service=service,
                settings=settings,
                topics=consumes,
                processor=self.processor,
                setup=faust_setup,
            )
        self._follower = (
            ClockFollower(self.clock, settings.bootstrap_list)
            if isinstance(self.clock, ManualClock)
            else None
        )
        self._background: list[asyncio.Task[Any]] = []
        self.started = False
        self.consumer_state = "none" if self.faust_app is None else "stopped"

    async def upgrade_schema(self) -> None:
        """Bring the database to the newest revision of the service's migrations (once per
        process; replicas starting together take turns, see :mod:`xinfang_shared.migrate`)."""
        if not self._schema_upgraded:
            await migrate.upgrade_to_head(self.database_url, service=self.service)
            self._schema_upgraded = True

    async def _on_tokens_revoked(self, ctx: HandlerContext) -> None:
        e = ctx.payload
        assert isinstance(e, TokensRevoked)
        await store_revocation(
            session=ctx.session, username=e.username, at=e.revoked_at, reason=e.reason
        )
        ctx.after_commit(lambda: self.revocations.note(e.username, e.revoked_at))

    async def start(self) -> None:
        if self.settings.auth_secret == DEMO_AUTH_SECRET:
            log.warning(
                "XF_AUTH_SECRET is the public demo value: anyone can forge tokens; "
                "set it outside the demo (使用演示密钥，生产环境必须设置 XF_AUTH_SECRET)"
            )
        await self.upgrade_schema()
        async with self.sessions() as session:
            await self.revocations.load(session)
        self.relay.start()
        if self._follower:
            self._follower.start()
        if self.faust_app is not None:
            # In the background: the HTTP API comes up (and intake accepts petitions) even
            # while the broker is away; /readyz says whether the broker answers.
            self._background.append(asyncio.create_task(self._start_consumer(), name="faust"))
        # Everything loaded so far (modules, compiled statements, the org tree) lives as long
        # as the process: keep it out of the collector's full passes. Without this a full
        # collection under load took 75-95 ms every ~2 s and set intake's p99 (bench.intake_load).
        gc.freeze()
        self.started = True

    async def _start_consumer(self) -> None:
        """Start faust once the broker answers: faust does not recover from a broker that is
        absent when it starts, so wait for it (intake keeps accepting meanwhile)."""
        assert self.faust_app is not None
        self.consumer_state = "waiting for broker"
        await retry(lambda: kafka.ping(self.settings.bootstrap_list), wait=Backoff(0.2, cap=5.0))
        self.consumer_state = "starting"
        await self.faust_app.start()
        self.consumer_state = "running"

    async def rewind_consumer(self) -> None:
        """The broker came back empty (the relay saw offsets start again): read every assigned
        partition again from its start. The positions held from before point into logs that
        no longer exist, and the consumer could pass over records written below them;
        handling is idempotent, so reading again costs only time."""
        if self.faust_app is None or self.consumer_state != "running":
            return
        consumer = self.faust_app.consumer
        tps = [tp for tp in consumer.assignment() if not tp.topic.endswith("-changelog")]
        for tp in tps:
            await consumer.seek(tp, 0)  # faust forgets its read offset for tp as well
        log.warning(
            "%s: broker reset: reading %d partitions again from the start", self.service, len(tps)
        )

    def add_task(self, coro_fn: Callable[[], Awaitable[Any]], name: str) -> None:
        self._background.append(asyncio.create_task(coro_fn(), name=name))  # type: ignore[arg-type]

    async def stop(self) -> None:
        for task in self._background:
            task.cancel()
        if self._background:
            # bounded: a task stuck in its own cancellation (a driver call that does not give
            # way) must not keep the process from shutting down
            done, stuck = await asyncio.wait(self._background, timeout=10)
            for task in done:
                if not task.cancelled():
                    task.exception()  # retrieved: a task that failed was logged when it did
            for task in stuck:
                log.warning("%s: background task %s did not stop in 10 s", self.service, task)
        if self.faust_app is not None:
            try:
                await asyncio.wait_for(self.faust_app.stop(), 10)
            except Exception as exc:
                log.warning("faust did not stop cleanly: %s", exc)
        if self._follower:
            await self._follower.stop()
        await self.relay.stop()
        await self.engine.dispose()
        self.started = False

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "service": self.service,
            "now": self.clock.now().isoformat(),
            "clock_mode": self.settings.clock_mode.value,
            "clock_offset_s": self.clock.offset.total_seconds(),
        }

    async def readiness(self) -> tuple[bool, dict[str, Any]]:
        checks: dict[str, Any] = {}
        ok = True
        try:
            await asyncio.wait_for(db.ping(self.engine), 3)
            checks["database"] = "ok"
        except Exception as exc:
            ok = False
            checks["database"] = f"unreachable: {type(exc).__name__}"
        try:
            await kafka.ping(self.settings.bootstrap_list)
            checks["broker"] = "ok"
        except Exception as exc:
            ok = ok and self.ready_without_broker
            checks["broker"] = f"unreachable: {type(exc).__name__}"
        if checks["database"] == "ok":
            checks["outbox_pending"] = await self.relay.pending()
        if self.relay.last_error:
            checks["outbox_last_error"] = self.relay.last_error
        if self.processor is not None:
            checks["consumer"] = self.consumer_state
            checks["events_handled"] = self.processor.handled
            checks["events_dead_lettered"] = self.processor.dead_lettered
        if self.warnings:
            checks["warnings"] = self.warnings
        return ok, checks


async def get_runtime(request: Request) -> ServiceRuntime:
    rt: ServiceRuntime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep) -> Any:
    async with rt.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="进程存活 / liveness", response_model=HealthRead)
    async def healthz(rt: RuntimeDep) -> dict[str, Any]:
        return rt.health()

    @router.get(
        "/readyz",
        summary="依赖可达 / readiness (database and broker)",
        response_model=ReadinessRead,
        responses={503: {"model": ReadinessRead, "description": "未就绪 / not ready"}},
    )
    async def readyz(rt: RuntimeDep) -> JSONResponse:
        ok, checks = await rt.readiness()
        return JSONResponse(
            {"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503
        )

    return router
