"""The injectable clock.

``SystemClock`` is the wall clock. ``ManualClock`` (demo/test mode) is the wall clock plus an
offset; ``xf-clock advance 12d`` publishes a new offset on the ``system.clock`` topic and every
running service applies it (see :class:`ClockFollower`), so a 60-day deadline can be tested in
seconds. Time keeps flowing in manual mode; only the offset jumps, and it never goes backwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition

from xinfang_shared.retry import Backoff, retry
from xinfang_shared.settings import ClockMode
from xinfang_shared.topics import CLOCK_TOPIC

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    mode = ClockMode.SYSTEM

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def offset(self) -> timedelta:
        return timedelta(0)


class ManualClock:
    """Wall clock plus an adjustable offset; listeners run after every change."""

    mode = ClockMode.MANUAL

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self._offset = offset
        self._listeners: list[Callable[[], Awaitable[None]]] = []

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def on_change(self, listener: Callable[[], Awaitable[None]]) -> None:
        self._listeners.append(listener)

    async def set_offset(self, offset: timedelta) -> bool:
        """Apply an offset; returns False (and changes nothing) if it would move time back."""
        if offset < self._offset:
            log.warning("clock offset %s ignored: behind current %s", offset, self._offset)
            return False
        changed = offset != self._offset
        self._offset = offset
        if changed:
            log.info(
                "clock offset now %s", offset, extra={"clock_offset_s": offset.total_seconds()}
            )
            for listener in self._listeners:
                await listener()
        return True


class FixedClock:
    """A clock that only moves when told to: for unit tests."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta


def build_clock(mode: ClockMode) -> SystemClock | ManualClock:
    return ManualClock() if mode is ClockMode.MANUAL else SystemClock()


def encode_offset(offset: timedelta) -> bytes:
    return json.dumps(
        {"offset_seconds": offset.total_seconds(), "set_at": datetime.now(UTC).isoformat()}
    ).encode()


def decode_offset(raw: bytes | None) -> timedelta | None:
    try:
        doc = json.loads(raw or b"")
        return timedelta(seconds=float(doc["offset_seconds"]))
    except (ValueError, KeyError, TypeError):
        return None


class ClockFollower:
    """Follows the ``system.clock`` topic (no consumer group: every replica reads all of it)."""

    def __init__(self, clock: ManualClock, bootstrap_servers: list[str]) -> None:
        self._clock = clock
        self._servers = bootstrap_servers
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="clock-follower")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        # broker down or topic missing: try again, 0.5 s up to 5 s apart (0.5 s again once
        # connected)
        backoff = Backoff(0.5, cap=5.0)

        def waiting(exc: Exception, delay: float) -> None:
            log.warning("clock follower waiting for broker: %s", exc)

        while True:  # a consumer that stopped iterating is simply started again
            await retry(lambda: self._follow(backoff), wait=backoff, before_sleep=waiting)

    async def _follow(self, backoff: Backoff) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers, enable_auto_commit=False, group_id=None
        )
        try:
            await consumer.start()
            tp = TopicPartition(CLOCK_TOPIC, 0)
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            backoff.reset()
            async for msg in consumer:
                if msg.value is None:
                    continue  # the launcher's record that opens the partition
                offset = decode_offset(msg.value)
                if offset is None:
                    log.error("ignoring malformed clock message at offset %s", msg.offset)
                    continue
                await self._clock.set_offset(offset)
        finally:
            await consumer.stop()
