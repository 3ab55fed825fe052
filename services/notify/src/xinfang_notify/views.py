"""HTTP: the live Server-Sent-Events stream, the notification log and a minimal dashboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from xinfang_shared.runtime import RuntimeDep, SessionDep

from xinfang_notify import service
from xinfang_notify.hub import Hub

router = APIRouter(tags=["notify 通知"])


def sse_frame(item: dict[str, Any]) -> str:
    data = json.dumps(item, ensure_ascii=False)
    return f"id: {item['seq']}\nevent: notification\ndata: {data}\n\n"


@router.get(
    "/api/v1/stream",
    summary="实时通知流（SSE）/ live notification stream",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
    rt: RuntimeDep,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[
        int | None, Query(ge=0, description="replay notifications after this id")
    ] = None,
    recipient: Annotated[str | None, Query(max_length=60)] = None,
) -> StreamingResponse:
    hub: Hub = request.app.state.hub
    heartbeat: float = request.app.state.heartbeat
    sub = hub.subscribe()  # before the replay, so nothing falls between the two
    start: int | None = since
    if last_event_id and last_event_id.isdigit():
        start = int(last_event_id)

    async def events() -> AsyncIterator[str]:
        last = start or 0
        try:
            yield "retry: 3000\n\n"
            if start is not None:
                async with rt.sessions() as session:
                    backlog = await service.list_notifications(
                        session=session, after_seq=start, recipient=recipient, limit=10_000
                    )
                for item in backlog:
                    last = item["seq"]
                    yield sse_frame(item)
            while not sub.dropped:
                try:
                    item = await asyncio.wait_for(sub.queue.get(), heartbeat)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if not item:
                    return  # the hub was closed: shutting down
                if item["seq"] <= last or (recipient and item["recipient"] != recipient):
                    continue
                last = item["seq"]
                yield sse_frame(item)
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/api/v1/notifications", summary="通知记录 / notification log")
async def notifications(
    session: SessionDep,
    case_id: str | None = None,
    recipient: str | None = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await service.list_notifications(
        session=session, after_seq=after, case_id=case_id, recipient=recipient, limit=limit
    )


DASHBOARD_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>信访实时预警</title>
<style>
 body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2rem;background:#f6f7f9;color:#222}
 h1{font-size:1.4rem} #status{color:#666;font-size:.9rem}
 ul{list-style:none;padding:0} li{background:#fff;margin:.5rem 0;padding:.8rem 1rem;border-left:6px solid #999;border-radius:4px}
 li.yellow{border-color:#e6a700} li.red{border-color:#d0312d} li.urgent{border-color:#8b0000;background:#fff3f3}
 .t{font-weight:bold} .m{color:#666;font-size:.85rem}
</style></head>
<body><h1>信访实时预警与催办</h1><div id="status">正在连接…</div><ul id="list"></ul>
<script>
const list = document.getElementById('list'), status = document.getElementById('status');
const es = new EventSource('/api/v1/stream?since=0');
es.onopen = () => status.textContent = '已连接，实时接收中';
es.onerror = () => status.textContent = '连接中断，正在重连…';
es.addEventListener('notification', (e) => {
  const n = JSON.parse(e.data);
  const li = document.createElement('li');
  li.className = n.level;
  li.innerHTML = '<div class="t"></div><div class="b"></div><div class="m"></div>';
  li.querySelector('.t').textContent = n.title;
  li.querySelector('.b').textContent = n.body;
  li.querySelector('.m').textContent = n.case_number + ' · ' + n.recipient + ' · ' + new Date(n.created_at).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai'});
  list.prepend(li);
});
</script></body></html>"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> str:
    return DASHBOARD_HTML
