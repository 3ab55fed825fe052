"""Run a service's real FastAPI app in-process (lifespan included) for integration tests.

The client carries a service account's token for the whole org tree unless told otherwise
(``token=None`` for none, or a user's token): the APIs require a caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from xinfang_shared.auth.security import service_token

TEN_YEARS_S = 10 * 365 * 24 * 3600  # outlives any jump of the tests' manual clock
ROOT = "339900"  # the demo tree's root (江临市)


def service_token_for_tests(settings: Any, now: Any = None) -> str:
    return service_token(
        "tests", secret=settings.auth_secret, ttl_s=TEN_YEARS_S, org_code=ROOT, now=now
    )


@asynccontextmanager
async def running(
    app: FastAPI, *, token: str | None = "service"
) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {}
        if token == "service":
            rt = app.state.runtime
            token = service_token_for_tests(rt.settings, rt.clock.now())
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", timeout=20, headers=headers
        ) as client:
            yield client
