"""Every service's /docs renders in a real browser (headless Chromium) with every asset from the
service itself: zero requests to other hosts (offline it used to be blank: Swagger UI came from
a CDN), no Content-Security-Policy violation. Each service runs under uvicorn on a real port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import Databases, free_port
from tests.e2e.stacks import browser_page
from tests.integration.test_platform import SERVICES, make_app


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


@pytest.mark.parametrize("service", SERVICES)
async def test_docs_render_offline_with_zero_requests_elsewhere(
    service: str, databases: Databases, tmp_path: Path
) -> None:
    app = await make_app(service, databases)
    async with served(app) as base, browser_page() as page:
        requested: list[str] = []
        problems: list[str] = []
        page.on("request", lambda r: requested.append(r.url))
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(base + "/docs")
        await page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
        await page.locator(".opblock").first.wait_for(timeout=20_000)
        title = await page.locator(".swagger-ui .info .title").inner_text()
        assert app.title in title
        shot = tmp_path / f"docs-{service}.png"
        await page.screenshot(path=str(shot), full_page=False)
        assert shot.stat().st_size > 10_000
        own = urlsplit(base).netloc
        elsewhere = [u for u in requested if urlsplit(u).netloc not in (own, "")]
        assert elsewhere == [], elsewhere
        assert [p for p in problems if "Content Security Policy" in p] == []
        assert [p for p in problems if "Refused" in p] == []
