"""The outbox relay: publishes rows committed to a service's ``outbox`` table to Kafka.

A row is marked published only after the broker acknowledged it (acks=all), so a crash or a
broker outage at any point means the row is sent again later: at-least-once, never lost.
On PostgreSQL several replicas share the table safely with ``FOR UPDATE SKIP LOCKED``.

A broker that comes back empty (Tansu in memory keeps nothing across a restart; a cluster
restored from an old state) would lose what was published but not yet consumed. The relay
remembers the offsets the broker gave it; when a partition hands out an offset below them, its
log was reset, and the relay publishes the rows of the last ``replay_window_s`` again.
Consumers are idempotent, so the duplicates cost nothing. (The offsets returned for sends are
the evidence: Tansu's reported end offsets lag behind, so they cannot be used.)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from xinfang_shared.db import is_sqlite
from xinfang_shared.kafka import make_producer
from xinfang_shared.retry import Backoff, retry

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        servers: list[str],
        batch_size: int = 500,
        poll_interval: float = 0.5,
        replay_window_s: float = 900.0,
        reset_grace_s: float = 2.0,
        send_timeout_s: float = 5.0,
        on_reset: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._outbox = outbox
        self._servers = servers
        self._batch = batch_size
        self._poll = poll_interval
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        self.published_total = 0
        self.replayed_total = 0
        self._replay_window = replay_window_s
        self._high: dict[tuple[str, int], int] = {}  # the offsets the broker gave us
        self._reset_seen = False
        self._grace = reset_grace_s
        self._send_timeout = send_timeout_s
        self._on_reset = on_reset

    def wake(self) -> None:
        """Called after a commit that added outbox rows: publish now rather than at next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), 5)
            except Exception:  # pragma: no cover - best effort on shutdown
                pass
            self._producer = None

    async def pending(self) -> int:
        async with self._sessions() as session:
            q = (
                select(func.count())
                .select_from(self._outbox)
                .where(self._outbox.c.published_at.is_(None))
            )
            return int((await session.execute(q)).scalar_one())

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self._servers)
            try:
                await producer.start()
            except Exception:
                await producer.stop()
                raise
            self._producer = producer
            if self.last_error is not None and self._grace > 0:
                # Back after a failure: a broker that restarted empty is being set up now
                # (the launcher creating topics and opening partitions). On Tansu a batch
                # written into a partition at the moment its first record is written could be
                # acknowledged and yet not be readable: let the setup finish first.
                await asyncio.sleep(self._grace)
        return self._producer

    async def publish_batch(self) -> int:
        """Publish up to one batch of pending rows; returns how many were published."""
        o = self._outbox
        producer = await self._ensure_producer()
        q = (
            select(o.c.id, o.c.topic, o.c.key, o.c.value)
            .where(o.c.published_at.is_(None))
            .order_by(o.c.id)
            .limit(self._batch)
        )
        if is_sqlite(self._engine):
            # SQLite has one write lock for the whole file: holding it while the broker is
            # unreachable would stall every registration for the send timeout. Read, send,
            # then mark, each step short (a second relay on the same file may send a row twice)
            async with self._sessions() as session:
                rows = (await session.execute(q)).all()
            if not rows:
                return 0
            sent = await asyncio.wait_for(self._send(producer, rows), self._send_timeout)
            self._note(sent)
            async with self._sessions() as session, session.begin():
                await self._mark(session, rows)
        else:
            async with self._sessions() as session, session.begin():
                rows = (await session.execute(q.with_for_update(skip_locked=True))).all()
                if not rows:
                    return 0
                sent = await asyncio.wait_for(self._send(producer, rows), self._send_timeout)
                self._note(sent)
                await self._mark(session, rows)
        self.published_total += len(rows)
        return len(rows)

    def _note(self, sent: list[Any]) -> None:
        for meta in sent:
            tp = (meta.topic, meta.partition)
            if meta.offset < self._high.get(tp, -1):
                self._reset_seen = True  # the log starts again below what it had
            self._high[tp] = max(self._high.get(tp, -1), meta.offset)

    async def _mark(self, session: AsyncSession, rows: Sequence[Any]) -> None:
        o = self._outbox
        await session.execute(
            update(o)
            .where(o.c.id.in_([r.id for r in rows]))
            .values(published_at=datetime.now(UTC), attempts=o.c.attempts + 1)
        )

    async def _run(self) -> None:
        # Broker or database unavailable: nothing is lost, rows stay pending; tried again
        # 0.2 s doubling up to 5 s apart, from 0.2 s again after a batch went out.
        backoff = Backoff(0.2, cap=5.0)

        async def cannot_publish(exc: Exception, delay: float) -> None:
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("outbox relay cannot publish yet: %s", self.last_error)
            await self._discard_producer()

        while True:
            await retry(lambda: self._cycle(backoff), wait=backoff, before_sleep=cannot_publish)

    async def _cycle(self, backoff: Backoff) -> None:
        """Publish one batch, or wait (woken or polled) when there was nothing to publish."""
        started = time.monotonic()
        if self._reset_seen:
            # Let the broker's setup finish first (the launcher creating topics and
            # opening partitions): on Tansu, batches written into a partition at the
            # same time as its first record could be acknowledged and then not be
            # readable, and they are replayed only if they are sent again after it.
            await asyncio.sleep(self._grace)
            await self._replay()
        n = await self.publish_batch()
        self.last_error = None
        backoff.reset()
        if n:
            log.debug("outbox published %d in %.3fs", n, time.monotonic() - started)
            return  # more may be waiting
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), self._poll)
        except TimeoutError:
            pass

    @staticmethod
    async def _send(producer: AIOKafkaProducer, rows: Sequence[Any]) -> list[Any]:
        futures = [
            await producer.send(r.topic, value=r.value.encode(), key=r.key.encode()) for r in rows
        ]
        return list(await asyncio.gather(*futures))

    async def _discard_producer(self) -> None:
        """Drop the producer without delivering what it still holds. ``stop()`` would keep
        trying to deliver it (into a broker that may be coming back empty); those rows are
        still pending in the outbox and are sent again by a new producer.

        aiokafka's private ``_sender``: pinned by tests/unit/test_library_patches.py::
        test_discarding_the_relay_s_producer_cancels_its_sender_task"""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        sender = getattr(producer, "_sender", None)
        task = getattr(sender, "sender_task", None)
        if task is not None:
            task.cancel()
        try:
            await asyncio.wait_for(producer.client.close(), 5)
        except Exception:  # pragma: no cover - best effort
            pass

    async def _replay(self) -> None:
        """The broker lost its logs: publish the recent rows again."""
        since = datetime.now(UTC) - timedelta(seconds=self._replay_window)
        async with self._sessions() as session, session.begin():
            result = await session.execute(
                update(self._outbox)
                .where(self._outbox.c.published_at >= since)
                .values(published_at=None)
            )
        self._high.clear()
        self._reset_seen = False
        if self._on_reset is not None:
            await self._on_reset()  # e.g. the service's consumer reads the new log again
        count = int(getattr(result, "rowcount", 0) or 0)
        self.replayed_total += count
        log.warning(
            "the broker's logs were reset (restarted empty?): publishing the %d rows of the "
            "last %.0f s again",
            count,
            self._replay_window,
        )
