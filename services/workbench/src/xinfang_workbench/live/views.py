"""Live: notify's notification stream (SSE) reached through the workbench's own origin, so
every page can listen with the session cookie (an ``EventSource`` sends no header), and the
message page. What is unread is counted in the browser: the notifications after the last one
the user saw on the message page (``static/wb.js``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from xinfang_workbench.deps import UserDep, WorkbenchDep

router = APIRouter(include_in_schema=False)
SEQ_MAX = 2**63 - 1
STREAM_TIMEOUT = httpx.Timeout(10.0, read=None)


@router.get("/live/stream")
async def stream(
    request: Request,
    wb: WorkbenchDep,
    user: UserDep,
    since: Annotated[int | None, Query(ge=0, le=SEQ_MAX)] = None,
) -> Response:
    client = wb.api.clients["notify"]
    params = {"since": since} if since is not None else {}
    upstream = client.build_request(
        "GET",
        "/api/v1/stream",
        params=params,
        headers={"Authorization": f"Bearer {user.token}", "Accept": "text/event-stream"},
        timeout=STREAM_TIMEOUT,
    )
    try:
        r = await client.send(upstream, stream=True)
    except httpx.HTTPError:
        return Response(status_code=502)
    if r.status_code != 200:
        await r.aclose()
        return Response(status_code=401 if r.status_code == 401 else 502)

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in r.aiter_raw():
                yield chunk
                if await request.is_disconnected():
                    return
        except httpx.HTTPError:
            return
        finally:
            await r.aclose()

    return StreamingResponse(
        relay(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/messages", response_class=HTMLResponse)
async def messages(request: Request, wb: WorkbenchDep, user: UserDep) -> Response:
    items = await user.api.get("notify", "/api/v1/notifications", limit=1000)
    rows = one_per_event(items)[:200]
    return wb.pages.render(request, "messages.html", user=user, items=rows)


def one_per_event(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per event, newest first: an event told to several recipients the user oversees
    (the office, its leaders…) is one message, with who was told and its latest ``seq``."""
    rows: dict[str, dict[str, Any]] = {}
    for item in items:
        key = str(item.get("source_event_id") or item["seq"])
        row = rows.get(key)
        if row is None:
            rows[key] = {**item, "recipients": [item.get("recipient_name") or ""]}
            continue
        row["seq"] = max(row["seq"], item["seq"])
        if item.get("recipient_name") and item["recipient_name"] not in row["recipients"]:
            row["recipients"].append(item["recipient_name"])
    return sorted(rows.values(), key=lambda r: r["seq"], reverse=True)
