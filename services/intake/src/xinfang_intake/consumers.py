"""Intake keeps the petitioner's status view up to date from the routing and lifecycle events."""

from __future__ import annotations

from xinfang_shared.consumer import Handler, HandlerContext
from xinfang_shared.events import CaseLinked, CaseRouted, CaseStatusChanged

from xinfang_intake.petitions import service


async def on_case_routed(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, CaseRouted)
    await service.record_routed(session=ctx.session, event=ctx.payload)


async def on_status_changed(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, CaseStatusChanged)
    await service.record_status_changed(session=ctx.session, event=ctx.payload)


async def on_case_linked(ctx: HandlerContext) -> None:
    assert isinstance(ctx.payload, CaseLinked)
    await service.record_linked(session=ctx.session, event=ctx.payload)


HANDLERS: dict[str, Handler] = {
    CaseRouted.TYPE: on_case_routed,
    CaseLinked.TYPE: on_case_linked,
    CaseStatusChanged.TYPE: on_status_changed,
}
TOPICS = [CaseRouted.TOPIC, CaseLinked.TOPIC, CaseStatusChanged.TOPIC]
