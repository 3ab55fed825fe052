"""What intake's views depend on: the one object :func:`xinfang_intake.main.bootstrap` builds,
as an ``Annotated`` dependency (like ``RuntimeDep`` of xinfang_shared.runtime)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from xinfang_shared.ratelimit import RateLimiter
from xinfang_shared.runtime import ServiceRuntime

from xinfang_intake.config import IntakeSettings
from xinfang_intake.petitions.sealing import InformantCipher
from xinfang_intake.petitions.writer import RegistrationWriter


@dataclass
class Intake:
    """The intake service: its runtime, settings, per-client limiter, the batch writer of
    registrations and the cipher of sealed informants (检举控告)."""

    runtime: ServiceRuntime
    settings: IntakeSettings
    limiter: RateLimiter
    writer: RegistrationWriter
    cipher: InformantCipher


async def get_intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


IntakeDep = Annotated[Intake, Depends(get_intake)]
