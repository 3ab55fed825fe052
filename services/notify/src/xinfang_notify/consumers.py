from __future__ import annotations

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import (
    CaseEscalated,
    CaseLinked,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
    SkipLevelAlert,
    SupervisionOrderIssued,
)

from xinfang_notify import service
from xinfang_notify.hub import Hub

CONSUMED = (
    DeadlineReminder,
    DeadlineOverdue,
    CaseEscalated,
    SupervisionOrderIssued,
    CollectiveAlert,
    SkipLevelAlert,
    CaseLinked,
)
TOPICS = [m.TOPIC for m in CONSUMED]


def handlers(hub: Hub) -> dict[str, Handler]:
    async def notify(ctx: HandlerContext) -> None:
        rows = await service.record_notifications(
            session=ctx.session, envelope=ctx.envelope, event=ctx.payload, now=ctx.now
        )

        def push() -> None:
            for row in rows:
                hub.publish(row)

        ctx.after_commit(push)

    return {m.TYPE: notify for m in CONSUMED}
