from __future__ import annotations

from collections.abc import Callable

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import (
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

from xinfang_notify import service
from xinfang_notify.hub import Hub

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
TOPICS = [m.TOPIC for m in (*OFFICIAL, *PETITIONER)]
assert AlertEscalated.TOPIC not in TOPICS  # notify raises those itself (no loop)


def handlers(
    hub: Hub, nc: service.NotifyContext, *, on_deliveries: Callable[[], None]
) -> dict[str, Handler]:
    async def notify(ctx: HandlerContext) -> None:
        rows = await service.record_notifications(
            session=ctx.session, nc=nc, envelope=ctx.envelope, event=ctx.payload, now=ctx.now
        )

        def push() -> None:
            for row in rows:
                hub.publish(row)
            on_deliveries()

        ctx.after_commit(push)

    async def received(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, PetitionReceived)
        await service.on_petition_received(
            session=ctx.session, nc=nc, envelope=ctx.envelope, p=ctx.payload, now=ctx.now
        )
        ctx.after_commit(on_deliveries)

    async def status_changed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseStatusChanged)
        await service.on_status_changed(
            session=ctx.session, nc=nc, envelope=ctx.envelope, e=ctx.payload, now=ctx.now
        )
        ctx.after_commit(on_deliveries)

    return {
        **{m.TYPE: notify for m in OFFICIAL},
        PetitionReceived.TYPE: received,
        CaseStatusChanged.TYPE: status_changed,
    }
