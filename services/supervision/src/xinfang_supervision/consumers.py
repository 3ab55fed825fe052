from __future__ import annotations

from collections.abc import Callable

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import (
    CaseEscalated,
    CaseLeaderNamed,
    CaseLinked,
    CaseRouted,
    CaseStatusChanged,
    SupervisionFeedbackGiven,
    SupervisionOrderIssued,
)

from xinfang_supervision.alerts import service as alerts
from xinfang_supervision.cases import service as cases
from xinfang_supervision.context import SupervisionContext

# case.routed and case.linked open and join cases; the others keep this level's copy of a case
# another level runs (a county's township cases, the city's escalated ones) in step.
TOPICS = [
    CaseRouted.TOPIC,
    CaseLinked.TOPIC,
    CaseStatusChanged.TOPIC,
    CaseEscalated.TOPIC,
    SupervisionOrderIssued.TOPIC,
    CaseLeaderNamed.TOPIC,
    SupervisionFeedbackGiven.TOPIC,
]


def handlers(sc: SupervisionContext, *, on_new_deadlines: Callable[[], None]) -> dict[str, Handler]:
    async def on_case_routed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseRouted)
        if not ctx.payload.final:
            return  # an intermediate 交办 hop: the deadlines start at the body that handles it
        p = ctx.payload
        if not sc.sees(p.to_unit_code, p.supervising_code, p.from_unit_code):
            return  # nothing of this level's subtree: another level's case
        await cases.on_routed(uow=ctx.uow, sc=sc, routed=ctx.payload, now=ctx.now)
        ctx.after_commit(on_new_deadlines)

    async def on_case_linked(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseLinked)
        await alerts.on_linked(uow=ctx.uow, sc=sc, linked=ctx.payload, now=ctx.now)

    async def on_status_changed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseStatusChanged)
        await cases.mirror_status(uow=ctx.uow, sc=sc, e=ctx.payload, now=ctx.now)

    async def on_escalated(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseEscalated)
        await cases.mirror_escalation(uow=ctx.uow, sc=sc, e=ctx.payload, now=ctx.now)

    async def on_order(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, SupervisionOrderIssued)
        await cases.mirror_order(uow=ctx.uow, sc=sc, e=ctx.payload, now=ctx.now)

    async def on_leader(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseLeaderNamed)
        await cases.mirror_leader(uow=ctx.uow, sc=sc, e=ctx.payload, now=ctx.now)

    async def on_feedback(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, SupervisionFeedbackGiven)
        await cases.mirror_feedback(uow=ctx.uow, sc=sc, e=ctx.payload, now=ctx.now)

    return {
        CaseLeaderNamed.TYPE: on_leader,
        SupervisionFeedbackGiven.TYPE: on_feedback,
        CaseRouted.TYPE: on_case_routed,
        CaseLinked.TYPE: on_case_linked,
        CaseStatusChanged.TYPE: on_status_changed,
        CaseEscalated.TYPE: on_escalated,
        SupervisionOrderIssued.TYPE: on_order,
    }
