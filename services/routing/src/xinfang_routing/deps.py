"""What routing's views depend on: the one object :func:`xinfang_routing.main.bootstrap`
builds, as an ``Annotated`` dependency (like ``RuntimeDep`` of xinfang_shared.runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from xinfang_shared.runtime import ServiceRuntime

from xinfang_routing.context import RoutingContext


@dataclass
class Routing:
    """The routing service: its runtime (database, outbox, consumer, clock) and what it
    decides with."""

    runtime: ServiceRuntime
    ctx: RoutingContext


async def get_routing(request: Request) -> Routing:
    routing: Routing = request.app.state.routing
    return routing


RoutingDep = Annotated[Routing, Depends(get_routing)]
