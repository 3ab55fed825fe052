"""What routing does with the events it reads: route each new petition (or watch one a lower
level routes), and note when a case is closed."""

from __future__ import annotations

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import CaseStatusChanged, PetitionReceived
from xinfang_shared.status import CaseStatus

from xinfang_routing.cases import service
from xinfang_routing.context import RoutingContext
from xinfang_routing.orgtree.service import refresh_org_tree

TOPICS = [PetitionReceived.TOPIC, CaseStatusChanged.TOPIC]


def handlers(ctx: RoutingContext) -> dict[str, Handler]:
    async def on_petition_received(hc: HandlerContext) -> None:
        assert isinstance(hc.payload, PetitionReceived)
        await refresh_org_tree(session=hc.session, ctx=ctx)
        office = hc.payload.receiving_office_code
        if ctx.deployment.owns(ctx.tree, office):
            await service.route_petition(uow=hc.uow, ctx=ctx, petition=hc.payload, now=hc.now)
        elif ctx.deployment.sees(ctx.tree, office):
            # registered at a lower level's office, which routes it: watch it here
            await service.route_petition(
                uow=hc.uow, ctx=ctx, petition=hc.payload, now=hc.now, watch=True
            )

    async def on_status_changed(hc: HandlerContext) -> None:
        # Routing only needs to know when a case is closed: a repeat of it is then a new case.
        assert isinstance(hc.payload, CaseStatusChanged)
        if hc.payload.new_status == CaseStatus.CLOSED:
            await service.close_case(session=hc.session, case_id=hc.payload.case_id)

    return {PetitionReceived.TYPE: on_petition_received, CaseStatusChanged.TYPE: on_status_changed}
