from __future__ import annotations

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import PetitionReceived

from xinfang_routing import service

SOURCE = "/xinfang/routing"


async def on_petition_received(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, PetitionReceived)
    await service.route_petition(
        session=ctx.session, petition=ctx.payload, now=ctx.now, source=SOURCE
    )


HANDLERS: dict[str, Handler] = {PetitionReceived.TYPE: on_petition_received}
TOPICS = [PetitionReceived.TOPIC]
