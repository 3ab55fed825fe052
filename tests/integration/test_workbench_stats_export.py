"""A 台账 export through the workbench is passed on as the reports service makes it: the
browser has the first chunk while the service has not made the second (the stand-in of the
reports API, served over HTTP, waits until the first chunk has reached the browser), so a
100 000-row file never sits whole in the workbench."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.main import create_app
from xinfang_workbench.session import COOKIE
from xinfang_workbench.stats import views

from tests.fake_reports import reports_app, serving

TODAY = date(2026, 5, 20)


async def _get(app: Any, path: str, query: str, cookie: str, on_body: Any) -> list[dict[str, Any]]:
    """GET through the ASGI app itself, seeing each message as the app sends it."""
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"cookie", f"{COOKIE}={cookie}".encode())],
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the browser stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            on_body(message["body"])

    await app(scope, receive, send)
    return sent


async def test_an_export_reaches_the_browser_chunk_by_chunk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "today", lambda: TODAY)
    gate = asyncio.Event()
    fake = reports_app(today=TODAY, gate=gate, export_rows=100_000)
    async with serving(fake) as reports:
        settings = WorkbenchSettings(XF_REPORTS_URL=reports)
        app = create_app(settings)
        p = Principal(username="qinghe.leader", name="领导", role=Role.LEADER, org_code="339922")
        token = issue_token(p, secret=settings.auth_secret, ttl_s=600, now=datetime.now(UTC))
        chunks: list[bytes] = []

        def arrived(body: bytes) -> None:
            chunks.append(body)
            gate.set()  # only now does the service make the other 99 999 rows

        async with app.router.lifespan_context(app):
            sent = await asyncio.wait_for(
                _get(app, "/stats/ledger.csv", "preset=year&channel=visit", token, arrived), 60
            )
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {k.decode(): v.decode() for k, v in start["headers"]}
    assert start["status"] == 200
    assert headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"].startswith("attachment; filename*=UTF-8''")
    assert headers["cache-control"] == "no-store"
    assert "content-security-policy" in headers
    body = b"".join(chunks)
    assert body.startswith("\ufeff编号".encode())
    assert body.count(b"\r\n") == 100_001  # the header and every row
    assert len(chunks) > 50  # passed on as it came (500 rows a chunk), not as one piece
    assert fake.state.calls[-1] == (
        "/api/v1/ledger/items.csv",
        {"from": "2026-01-01", "channel": "visit"},
    )


async def test_an_export_the_service_refuses_is_a_page_saying_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(views, "today", lambda: TODAY)
    async with serving(reports_app(today=TODAY, export_rows=100_001)) as reports:
        settings = WorkbenchSettings(XF_REPORTS_URL=reports)
        app = create_app(settings)
        p = Principal(username="qinghe.leader", name="领导", role=Role.LEADER, org_code="339922")
        token = issue_token(p, secret=settings.auth_secret, ttl_s=600, now=datetime.now(UTC))
        body: list[bytes] = []
        async with app.router.lifespan_context(app):
            sent = await _get(app, "/stats/ledger.xlsx", "preset=year", token, body.append)
    assert next(m for m in sent if m["type"] == "http.response.start")["status"] == 422
    html = b"".join(body).decode()
    assert "未能导出" in html and "导出的记录超过100000条，请缩小统计范围" in html
