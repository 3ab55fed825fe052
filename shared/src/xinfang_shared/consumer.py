"""Idempotent event consumption on faust-streaming, with a dead-letter topic.

Each message is handled in ONE database transaction together with the record of its event id in
``processed_events`` (a redelivered event is skipped) and any events it produces (outbox).

Failures are sorted:
- a message that can never be processed (not JSON, not a CloudEvent, unknown type, payload that
  fails its schema) goes to ``dlq.<service>`` at once, with the error, and the partition moves on;
- the database being unreachable is waited out (retry with backoff, the partition pauses: order
  is kept and nothing is skipped);
- any other error is retried a few times, then dead-lettered with the error.
Dead letters are written through the outbox in the same transaction that marks the event
processed, so a dead letter is never lost either.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import tempfile
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import faust
from faust.transport.drivers import aiokafka as faust_kafka
from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xinfang_shared.clock import Clock
from xinfang_shared.db import UnitOfWork, already_processed, mark_processed
from xinfang_shared.events import BadEvent, Envelope, EventData, UnknownEventType, decode
from xinfang_shared.retry import Backoff, retry
from xinfang_shared.settings import CommonSettings
from xinfang_shared.topics import dlq_topic

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


@dataclass
class HandlerContext:
    uow: UnitOfWork
    envelope: Envelope
    payload: EventData
    now: datetime
    _after_commit: list[Callable[[], Awaitable[None] | None]] = field(default_factory=list)

    @property
    def session(self) -> AsyncSession:
        return self.uow.session

    def after_commit(self, fn: Callable[[], Awaitable[None] | None]) -> None:
        """Run ``fn`` once the transaction has committed (e.g. push to live SSE clients)."""
        self._after_commit.append(fn)


Handler = Callable[[HandlerContext], Awaitable[None]]


@dataclass(frozen=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def _transient(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return False
    if isinstance(exc, OperationalError | OSError | ConnectionError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def dead_letter(
    msg: RawMessage, *, service: str, error: str, error_type: str, at: datetime
) -> dict[str, Any]:
    value: dict[str, Any]
    try:
        value = {"value_text": (msg.value or b"").decode()}
    except UnicodeDecodeError:
        value = {"value_base64": base64.b64encode(msg.value or b"").decode()}
    return {
        "service": service,
        "topic": msg.topic,
        "partition": msg.partition,
        "offset": msg.offset,
        "key": (msg.key or b"").decode(errors="replace"),
        **value,
        "error_type": error_type,
        "error": error[:4000],
        "failed_at": at.isoformat(),
    }


class EventProcessor:
    """The framework-free core: one raw message in, one committed transaction out."""

    def __init__(
        self,
        *,
        service: str,
        sessions: async_sessionmaker[AsyncSession],
        processed: Table,
        outbox: Table,
        handlers: dict[str, Handler],
        clock: Clock,
        on_commit: Callable[[], None] = lambda: None,
        on_rollback: Callable[[], None] = lambda: None,
        max_backoff: float = 5.0,
    ) -> None:
        self.service = service
        self._sessions = sessions
        self._processed = processed
        self._outbox = outbox
        self._handlers = handlers
        self._clock = clock
        self._on_commit = on_commit
        self._on_rollback = on_rollback
        self._max_backoff = max_backoff
        self.dead_lettered = 0
        self.handled = 0
        self.skipped_duplicates = 0

    async def process(self, msg: RawMessage) -> str:
        """Returns 'handled', 'duplicate', 'ignored' or 'dead-lettered'. Never raises."""
        if msg.value is None:
            return "ignored"  # no event: the launcher's record that opens a new partition
        try:
            envelope = decode(msg.value)
            handler = self._handlers.get(envelope.type)
            if handler is None:
                # Not an event this service consumes (e.g. a newer type on a shared topic).
                return "ignored"
            payload = envelope.payload()
        except (BadEvent, UnknownEventType, ValidationError) as exc:
            await self._dead_letter(msg, None, exc)
            return "dead-lettered"

        # The database being away is waited out (0.2 s doubling up to max_backoff, not
        # counted); any other error is tried MAX_ATTEMPTS times (0.05 s, 0.1 s, ... apart).
        transient = Backoff(0.2, cap=self._max_backoff)
        attempts = 0

        def wait(exc: Exception, failures: int) -> float | None:
            nonlocal attempts
            self._on_rollback()
            if _transient(exc):
                delay = transient.next_delay()
                log.warning(
                    "%s: database unavailable, retrying event %s in %.1fs: %s",
                    self.service,
                    envelope.id,
                    delay,
                    exc,
                )
                return delay
            attempts += 1
            if attempts >= MAX_ATTEMPTS:
                return None
            log.warning(
                "%s: event %s failed (attempt %d): %r", self.service, envelope.id, attempts, exc
            )
            return 0.05 * attempts

        try:
            return await retry(lambda: self._handle_once(envelope, payload, handler), wait=wait)
        except Exception as exc:
            log.error(
                "%s: event %s failed %d times, dead-lettering", self.service, envelope.id, attempts
            )
            await self._dead_letter(msg, envelope, exc)
            return "dead-lettered"

    async def process_batch(self, msgs: list[RawMessage]) -> None:
        """Handle many messages in ONE transaction (the fast path under load). If anything in
        the batch fails, it is rolled back and the messages are handled one by one, so a poison
        message or a transient error is dealt with exactly as in :meth:`process`."""
        if len(msgs) == 1:
            await self.process(msgs[0])
            return
        work: list[tuple[RawMessage, Envelope, EventData, Handler]] = []
        for msg in msgs:
            if msg.value is None:
                continue  # the launcher's record that opens a new partition
            try:
                envelope = decode(msg.value)
                handler = self._handlers.get(envelope.type)
                if handler is None:
                    continue
                work.append((msg, envelope, envelope.payload(), handler))
            except (BadEvent, UnknownEventType, ValidationError) as exc:
                await self._dead_letter(msg, None, exc)
        if not work:
            return
        contexts: list[HandlerContext] = []
        try:
            now = self._clock.now()
            async with self._sessions() as session, session.begin():
                uow = UnitOfWork(session)
                ids = [env.id for _, env, _, _ in work]
                done = set(
                    (
                        await session.execute(
                            select(self._processed.c.event_id).where(
                                self._processed.c.event_id.in_(ids)
                            )
                        )
                    ).scalars()
                )
                for _msg, envelope, payload, handler in work:
                    if envelope.id in done:
                        self.skipped_duplicates += 1
                        continue
                    done.add(envelope.id)
                    ctx = HandlerContext(uow=uow, envelope=envelope, payload=payload, now=now)
                    await handler(ctx)
                    contexts.append(ctx)
                    uow.add(
                        self._processed,
                        {"event_id": envelope.id, "event_type": envelope.type, "processed_at": now},
                    )
                await uow.flush()
        except asyncio.CancelledError:
            self._on_rollback()
            raise
        except Exception as exc:
            self._on_rollback()
            log.warning(
                "%s: batch of %d failed (%r); handling one by one", self.service, len(work), exc
            )
            for msg, *_ in work:
                await self.process(msg)
            return
        self.handled += len(contexts)
        self._on_commit()
        for ctx in contexts:
            for fn in ctx._after_commit:
                result = fn()
                if asyncio.iscoroutine(result):
                    await result

    async def _handle_once(self, envelope: Envelope, payload: EventData, handler: Handler) -> str:
        now = self._clock.now()
        async with self._sessions() as session:
            async with session.begin():
                if await already_processed(session, self._processed, envelope.id):
                    self.skipped_duplicates += 1
                    return "duplicate"
                uow = UnitOfWork(session)
                ctx = HandlerContext(uow=uow, envelope=envelope, payload=payload, now=now)
                await handler(ctx)
                await uow.flush()
                await mark_processed(session, self._processed, envelope, now=now)
        self.handled += 1
        self._on_commit()
        for fn in ctx._after_commit:
            result = fn()
            if asyncio.iscoroutine(result):
                await result
        return "handled"

    async def _dead_letter(
        self, msg: RawMessage, envelope: Envelope | None, exc: BaseException
    ) -> None:
        now = datetime.now(UTC)
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        doc = dead_letter(
            msg, service=self.service, error=error, error_type=type(exc).__name__, at=now
        )

        async def record() -> bool:
            async with self._sessions() as session, session.begin():
                if envelope is not None:
                    if await already_processed(session, self._processed, envelope.id):
                        return False
                    await mark_processed(session, self._processed, envelope, now=now)
                async with UnitOfWork(session) as uow:
                    uow.emit_message(
                        self._outbox,
                        message_id=f"dlq-{uuid.uuid4()}",
                        topic=dlq_topic(self.service),
                        key=doc["key"] or "unknown",
                        value=doc,
                        now=now,
                    )
            return True

        def not_yet(db_exc: Exception, delay: float) -> None:
            log.warning("%s: cannot record dead letter yet: %s", self.service, db_exc)

        # the database being away is waited out: a dead letter is never dropped
        recorded = await retry(
            record, wait=Backoff(0.2, cap=self._max_backoff), before_sleep=not_yet
        )
        if not recorded:
            return
        self.dead_lettered += 1
        log.error(
            "%s: dead-lettered message %s[%d]@%d: %s",
            self.service,
            msg.topic,
            msg.partition,
            msg.offset,
            error,
        )
        self._on_commit()


class _ConsumerThread(faust_kafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # faust hard-codes fetch_max_wait_ms=1500. A broker that holds a fetch for the whole
        # wait even when data arrives (Tansu does) then adds up to 1.5 s to every hop; a
        # Kafka cluster answers early anyway, so a short wait only costs idle polls.
        # faust's and aiokafka's private names: pinned by tests/unit/test_library_patches.py::
        # test_faust_s_consumer_is_built_with_the_configured_fetch_wait
        consumer._fetch_max_wait_ms = cast(XinfangFaustApp, self.app).fetch_max_wait_ms
        return consumer


class _Consumer(faust_kafka.Consumer):
    def _new_consumer_thread(self) -> faust_kafka.AIOKafkaConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(faust_kafka.Transport):
    Consumer = _Consumer


class XinfangFaustApp(faust.App):
    """faust.App with a configurable consumer fetch wait (``XF_KAFKA_FETCH_MAX_WAIT_MS``)."""

    fetch_max_wait_ms: int = 100

    def _new_transport(self) -> Any:
        return _Transport(self.conf.broker_consumer, self)


def faust_datadir() -> str:
    """Where faust keeps its data directory (empty here: tables live in memory): faust's own
    ``APP_DATADIR`` when set (``make run``: var/faust/<app id>; Kubernetes: /tmp/faust), else
    the system's temporary directory, never faust's default (the working directory). faust
    expands ``{conf.name}`` (the app id: one directory per level and consumer group) and creates
    the directory but not its parent."""
    default = Path(tempfile.gettempdir()) / "xinfang-faust" / "{conf.name}-data"
    datadir = os.environ.get("APP_DATADIR") or str(default)
    Path(datadir).parent.mkdir(parents=True, exist_ok=True)
    return datadir


def build_faust_app(
    *,
    service: str,
    settings: CommonSettings,
    topics: list[str],
    processor: EventProcessor,
    setup: Callable[[faust.App], None] | None = None,
) -> faust.App:
    """A faust app (web server off: the service's FastAPI app serves HTTP) with one agent for
    the service's events; ``setup`` may add more (e.g. a windowed-table detector)."""
    app = XinfangFaustApp(
        settings.deployment.group_id(service) + settings.kafka_group_suffix,
        broker=[f"kafka://{s}" for s in settings.bootstrap_list],
        datadir=faust_datadir(),
        # No leader election: nothing here runs `on_leader` timers or tasks, and the election
        # needs a topic per consumer group (`<app id>-__assignor-__leader`) that the launcher
        # would have to create for every level and group suffix; without it every start
        # logged "Topic ... __assignor-__leader not found" as an error.
        topic_disable_leader=True,
        processing_guarantee="at_least_once",
        web_enabled=False,
        autodiscover=False,
        store="memory://",
        topic_partitions=settings.topic_partitions,
        topic_allow_declare=False,
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_heartbeat_interval=max(0.5, settings.kafka_session_timeout_s / 5),
        broker_rebalance_timeout=max(settings.kafka_session_timeout_s, 10.0),
        consumer_auto_offset_reset="earliest",
    )
    app.fetch_max_wait_ms = settings.kafka_fetch_max_wait_ms
    channel = app.topic(*topics, key_serializer="raw", value_serializer="raw")

    async def consume(stream: Any) -> None:
        # Up to `batch` events per transaction; a lone event waits at most `within` seconds.
        # take_events acks the events only after the batch has been handled (at-least-once).
        async for events in stream.take_events(
            settings.consumer_batch, within=settings.consumer_batch_wait_s
        ):
            await processor.process_batch(
                [
                    RawMessage(
                        e.message.topic, e.message.partition, e.message.offset, e.key, e.value
                    )
                    for e in events
                ]
            )

    app.agent(channel, name=f"xinfang-{service}-events")(consume)
    if setup is not None:
        setup(app)
    for table in app.tables.values():
        # A changelog is table state this app writes and reads back only when recovering, so
        # faust creates it unacknowledged; ``Topic.derive`` (used to rename a changelog, e.g.
        # supervision's per-level one) drops that, and faust's stalled-stream check then took
        # the changelog for a stream that never started: "Stream has not started processing
        # ...-changelog" as an error every 7 s once 5 minutes had passed.
        table.changelog_topic.acks = False
    return app
