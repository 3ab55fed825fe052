"""The running service as one typed object (:class:`Supervision`), and the FastAPI dependency
that hands it to a view (:data:`SupervisionDep`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from xinfang_shared.runtime import ServiceRuntime

from xinfang_supervision.alerts.emerging import EmergingDetector
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.sweep.sweeper import Sweeper


@dataclass
class Supervision:
    """What ``bootstrap()`` builds: the runtime (database, broker, clock, relay), the context
    the service functions take, the deadline sweeper and the emerging-incident detector."""

    runtime: ServiceRuntime
    context: SupervisionContext
    sweeper: Sweeper
    detector: EmergingDetector

    def after_commit(self) -> None:
        """A step changed cases: publish its events now, and look at its deadlines."""
        self.runtime.relay.wake()
        self.sweeper.kick()


async def get_supervision(request: Request) -> Supervision:
    sup: Supervision = request.app.state.supervision
    return sup


SupervisionDep = Annotated[Supervision, Depends(get_supervision)]
