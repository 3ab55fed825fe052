"""The delivery worker: sends queued deliveries on their channels, with retries (exponential
backoff and jitter), per-address rate limits and quiet hours; after the last failure, the
delivery is dead, dead-lettered to ``dlq.notify`` and visible in the delivery log. Urgent
messages skip quiet hours and rate limits.

Several notify replicas may run workers: on PostgreSQL each claims its rows with
``FOR UPDATE SKIP LOCKED`` and a short lease, so a delivery is sent by one of them.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from xinfang_shared.db import UnitOfWork
from xinfang_shared.loop import Kickable
from xinfang_shared.ratelimit import RateLimiter
from xinfang_shared.runtime import ServiceRuntime
from xinfang_shared.timeutil import SHANGHAI
from xinfang_shared.topics import dlq_topic

from xinfang_notify.config import NotifySettings
from xinfang_notify.context import DEAD, PENDING, SENT, SKIPPED
from xinfang_notify.delivery.channels import (
    Channel,
    DeliveryError,
    DingTalkRobotChannel,
    Outgoing,
    SmsGatewayChannel,
    SmtpChannel,
    WeComRobotChannel,
    backoff_delay,
)
from xinfang_notify.models import deliveries, outbox

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)  # a claimed delivery is retried if its sender vanished


def build_channels(settings: NotifySettings) -> dict[str, Channel]:
    channels: dict[str, Channel] = {
        "wecom": WeComRobotChannel(),
        "dingtalk": DingTalkRobotChannel(),
    }
    if settings.smtp_host:
        channels["email"] = SmtpChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    if settings.sms_gateway_url:
        channels["sms"] = SmsGatewayChannel(
            settings.sms_gateway_url, sign_name=settings.sms_sign_name, api_key=settings.sms_api_key
        )
    return channels


def quiet_until(now: datetime, hours: tuple[int, int] | None) -> datetime | None:
    """The end of the quiet hours if ``now`` is inside them (local time), else None."""
    if hours is None:
        return None
    start, end = hours
    local = now.astimezone(SHANGHAI)
    h = local.hour
    inside = (start <= h < end) if start < end else (h >= start or h < end)
    if not inside:
        return None
    day = local.date() if h < end else local.date() + timedelta(days=1)
    return datetime.combine(day, time(end), tzinfo=SHANGHAI)


class DeliveryWorker:
    """Sends due deliveries in batches, at once when ``wake`` is kicked (deliveries were
    queued, the manual clock moved), else every second."""

    def __init__(
        self,
        runtime: ServiceRuntime,
        settings: NotifySettings,
        channels: dict[str, Channel],
        *,
        wake: Kickable,
        batch: int = 50,
        concurrency: int = 16,
    ) -> None:
        self.rt = runtime
        self.settings = settings
        self.channels = channels
        self.wake = wake
        self.batch = batch
        self._sem = asyncio.Semaphore(concurrency)
        self._limiters = {
            ch: RateLimiter(per_min / 60.0, burst=max(1, int(per_min // 6) or 1))
            for ch, per_min in settings.rate_per_min.items()
        }
        self.sent = 0
        self.failed = 0
        self.dead = 0

    def kick(self) -> None:
        self.wake.kick()

    async def kick_async(self) -> None:
        self.wake.kick()

    async def run(self) -> None:
        await self.wake.run_forever(self.run_once, interval=1.0, what="delivery worker")

    async def run_once(self) -> bool:
        """Claim and send one batch of due deliveries; True if there may be more."""
        now = self.rt.clock.now()
        async with self.rt.sessions() as session, session.begin():
            q = (
                select(deliveries)
                .where(deliveries.c.status == PENDING)
                .where(
                    or_(deliveries.c.next_attempt_at.is_(None), deliveries.c.next_attempt_at <= now)
                )
                .order_by(deliveries.c.next_attempt_at.nulls_first(), deliveries.c.id)
                .limit(self.batch)
            )
            if self.rt.engine.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            rows = (await session.execute(q)).all()
            if rows:
                await session.execute(
                    update(deliveries)
                    .where(deliveries.c.id.in_([r.id for r in rows]))
                    .values(next_attempt_at=now + LEASE)
                )
        if not rows:
            return False
        await asyncio.gather(*(self._send(r) for r in rows))
        return len(rows) == self.batch

    async def _send(self, row: Any) -> None:
        async with self._sem:
            now = self.rt.clock.now()
            channel = self.channels.get(row.channel)
            if channel is None:
                await self._finish(
                    row,
                    status=SKIPPED,
                    error=f"渠道未配置 / channel {row.channel} is not configured",
                )
                return
            urgent = row.level == "urgent"
            if not urgent:
                if row.channel in ("sms", "email") and (
                    later := quiet_until(now, self.settings.quiet_hours)
                ):
                    await self._reschedule(row, later, "免打扰时段 / quiet hours")
                    return
                limiter = self._limiters.get(row.channel)
                wait = limiter.try_acquire(row.address) if limiter else 0.0
                if wait > 0:
                    await self._reschedule(row, now + timedelta(seconds=wait), None)
                    return
            msg = Outgoing(
                channel=row.channel,
                address=row.address,
                subject=row.subject,
                text=row.body,
                level=row.level,
                case_number=row.case_number,
                link=row.link,
                secret=row.secret,
                template_id=row.template_id,
                params=json.loads(row.params) if row.params else {},
                message_id=row.delivery_id,
                date=max(now, row.created_at),  # the notice's clock, never before the notice
            )
            try:
                receipt = await channel.send(msg)
            except DeliveryError as exc:
                await self._failed(row, exc)
                return
            except Exception as exc:  # a bug in an adapter must not stop the worker
                await self._failed(row, DeliveryError(repr(exc), permanent=False))
                return
            self.sent += 1
            await self._finish(row, status=SENT, receipt=receipt[:200])

    async def _reschedule(self, row: Any, at: datetime, note: str | None) -> None:
        async with self.rt.sessions() as session, session.begin():
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(next_attempt_at=at, last_error=note or row.last_error)
            )

    async def _failed(self, row: Any, exc: DeliveryError) -> None:
        self.failed += 1
        attempts = row.attempts + 1
        now = self.rt.clock.now()
        if exc.permanent or attempts >= self.settings.max_attempts:
            await self._finish(row, status=DEAD, error=str(exc), attempts=attempts)
            return
        delay = backoff_delay(
            attempts, base=self.settings.backoff_base_s, cap=self.settings.backoff_cap_s
        )
        async with self.rt.sessions() as session, session.begin():
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(
                    attempts=attempts,
                    last_error=str(exc)[:2000],
                    next_attempt_at=now + timedelta(seconds=delay),
                )
            )
        log.info(
            "delivery %s failed (attempt %d), retry in %.1fs: %s",
            row.delivery_id,
            attempts,
            delay,
            exc,
        )

    async def _finish(
        self,
        row: Any,
        *,
        status: str,
        receipt: str | None = None,
        error: str | None = None,
        attempts: int | None = None,
    ) -> None:
        now = self.rt.clock.now()
        async with self.rt.sessions() as session, session.begin():
            await session.execute(
                update(deliveries)
                .where(deliveries.c.id == row.id)
                .values(
                    status=status,
                    attempts=attempts if attempts is not None else row.attempts + 1,
                    receipt=receipt,
                    last_error=error[:2000] if error else None,
                    sent_at=now if status == SENT else None,
                    next_attempt_at=None,
                )
            )
            if status == DEAD:
                self.dead += 1
                async with UnitOfWork(session) as uow:
                    uow.emit_message(
                        outbox,
                        message_id=f"dlq-delivery-{row.delivery_id}",
                        topic=dlq_topic("notify"),
                        key=row.case_id,
                        value={
                            "service": "notify",
                            "kind": "delivery",
                            "delivery_id": row.delivery_id,
                            "case_id": row.case_id,
                            "case_number": row.case_number,
                            "channel": row.channel,
                            "address": row.address,
                            "subject": row.subject,
                            "attempts": attempts,
                            "error": error,
                            "failed_at": now.isoformat(),
                        },
                        now=now,
                    )
                log.error(
                    "delivery %s dead after %s attempts: %s", row.delivery_id, attempts, error
                )
        if status == DEAD:
            self.rt.relay.wake()

    async def aclose(self) -> None:
        for ch in self.channels.values():
            await ch.aclose()
