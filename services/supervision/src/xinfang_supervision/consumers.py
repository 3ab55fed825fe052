from __future__ import annotations

from collections.abc import Callable

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import CaseLinked, CaseRouted

from xinfang_supervision import service

TOPICS = [CaseRouted.TOPIC, CaseLinked.TOPIC]


def handlers(
    sc: service.SupervisionContext, *, on_new_deadlines: Callable[[], None]
) -> dict[str, Handler]:
    async def on_case_routed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseRouted)
        if not ctx.payload.final:
            return  # an intermediate 交办 hop: the deadlines start at the body that handles it
        await service.on_routed(uow=ctx.uow, sc=sc, routed=ctx.payload, now=ctx.now)
        ctx.after_commit(on_new_deadlines)

    async def on_case_linked(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseLinked)
        await service.on_linked(uow=ctx.uow, sc=sc, linked=ctx.payload, now=ctx.now)

    return {CaseRouted.TYPE: on_case_routed, CaseLinked.TYPE: on_case_linked}
