"""What notify's views depend on: the one object :func:`xinfang_notify.main.bootstrap` builds,
as an ``Annotated`` dependency (like ``RuntimeDep`` of xinfang_shared.runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Request
from xinfang_shared.runtime import ServiceRuntime

from xinfang_notify.config import NotifySettings
from xinfang_notify.context import NotifyContext
from xinfang_notify.delivery.escalator import AlertEscalator
from xinfang_notify.delivery.service import DeliveryWorker
from xinfang_notify.notifications.hub import Hub


@dataclass
class Notify:
    """The notify service: its runtime, what it tells with, the live stream's hub, the
    delivery worker and alert escalator, and the client its login form forwards with."""

    runtime: ServiceRuntime
    settings: NotifySettings
    nc: NotifyContext
    hub: Hub
    worker: DeliveryWorker
    escalator: AlertEscalator
    # the dashboard's login form forwards credentials to the token issuer (intake)
    login_client: httpx.AsyncClient


async def get_notify(request: Request) -> Notify:
    notify: Notify = request.app.state.notify
    return notify


NotifyDep = Annotated[Notify, Depends(get_notify)]
