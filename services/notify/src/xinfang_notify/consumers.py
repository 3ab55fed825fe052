"""What notify does with the events it reads: tell officials (dashboard and channels),
tell petitioners of their own case, and take over or close alerts another level handed on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import (
    AlertAcknowledged,
    AlertEscalated,
    CaseEscalated,
    CaseLinked,
    CaseStatusChanged,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
    EmergingAlert,
    PetitionReceived,
    RepeatWaveAlert,
    SkipLevelAlert,
    SupervisionOrderIssued,
)

from xinfang_notify.context import NotifyContext
from xinfang_notify.notifications import alerts, petitioners, service
from xinfang_notify.notifications.hub import Hub

# Events that tell officials something (dashboard + their channels).
OFFICIAL = (
    DeadlineReminder,
    DeadlineOverdue,
    CaseEscalated,
    SupervisionOrderIssued,
    CollectiveAlert,
    EmergingAlert,
    RepeatWaveAlert,
    SkipLevelAlert,
    CaseLinked,
)
# Events that tell the petitioner about their own case (SMS / e-mail).
PETITIONER = (PetitionReceived, CaseStatusChanged)
# Alerts another level's notify escalated to this level's units, or acknowledged (a level only
# takes over what it did not raise itself: no loop).
HANDOVER = (AlertEscalated, AlertAcknowledged)
TOPICS = [m.TOPIC for m in (*OFFICIAL, *PETITIONER, *HANDOVER)]


def notice_time(ctx: HandlerContext) -> datetime:
    """When a notice is dated: the business clock at handling time, and never before the event
    it tells of (after a jump of the manual clock, the event's producer may have followed it a
    moment before this service did: an overdue notice dated before its due date)."""
    return max(ctx.now, ctx.envelope.time)


def handlers(
    hub: Hub, nc: NotifyContext, *, on_deliveries: Callable[[], None]
) -> dict[str, Handler]:
    async def notify(ctx: HandlerContext) -> None:
        rows = await service.record_notifications(
            session=ctx.session,
            nc=nc,
            envelope=ctx.envelope,
            event=ctx.payload,
            now=notice_time(ctx),
        )

        def push() -> None:
            for row in rows:
                hub.publish(row)
            on_deliveries()

        ctx.after_commit(push)

    async def received(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, PetitionReceived)
        await petitioners.on_petition_received(
            session=ctx.session, nc=nc, envelope=ctx.envelope, p=ctx.payload, now=notice_time(ctx)
        )
        ctx.after_commit(on_deliveries)

    async def status_changed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseStatusChanged)
        await petitioners.on_status_changed(
            session=ctx.session, nc=nc, envelope=ctx.envelope, e=ctx.payload, now=notice_time(ctx)
        )
        ctx.after_commit(on_deliveries)

    async def escalated_here(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, AlertEscalated)
        rows = await alerts.take_over_alert(
            session=ctx.session, nc=nc, envelope=ctx.envelope, e=ctx.payload, now=notice_time(ctx)
        )

        def push() -> None:
            for row in rows:
                hub.publish(row)
            on_deliveries()

        ctx.after_commit(push)

    async def acknowledged(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, AlertAcknowledged)
        await alerts.note_acknowledged(session=ctx.session, e=ctx.payload)

    return {
        AlertEscalated.TYPE: escalated_here,
        AlertAcknowledged.TYPE: acknowledged,
        **{m.TYPE: notify for m in OFFICIAL},
        PetitionReceived.TYPE: received,
        CaseStatusChanged.TYPE: status_changed,
    }
