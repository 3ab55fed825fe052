from __future__ import annotations

from collections.abc import Callable

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import CaseRouted

from xinfang_supervision import service


def handlers(
    *, reminder_days: tuple[int, ...], on_new_deadlines: Callable[[], None]
) -> dict[str, Handler]:
    async def on_case_routed(ctx: HandlerContext) -> None:
        assert isinstance(ctx.payload, CaseRouted)
        if not ctx.payload.final:
            return  # an intermediate 交办 hop: the deadlines start at the body that handles it
        created = await service.open_deadlines(
            session=ctx.session, routed=ctx.payload, now=ctx.now, reminder_days=reminder_days
        )
        if created:
            ctx.after_commit(on_new_deadlines)

    return {CaseRouted.TYPE: on_case_routed}


TOPICS = [CaseRouted.TOPIC]
