"""HTTP: the live Server-Sent-Events stream, the notification log and a minimal dashboard."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel, Field
from xinfang_shared.http import error_response
from xinfang_shared.runtime import RuntimeDep, SessionDep

from xinfang_notify import service
from xinfang_notify.hub import Hub

router = APIRouter(tags=["notify 通知"])


def sse_frame(item: dict[str, Any]) -> str:
    data = json.dumps(item, ensure_ascii=False)
    return f"id: {item['seq']}\nevent: notification\ndata: {data}\n\n"


def _nc(request: Request) -> service.NotifyContext:
    nc: service.NotifyContext = request.app.state.notify.nc
    return nc


OrgQuery = Annotated[
    str | None,
    Query(
        max_length=30,
        description="只看本单位及下级 / only what this org unit and the units below it may see",
    ),
]


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
    org: OrgQuery = None,
) -> StreamingResponse:
    hub: Hub = request.app.state.hub
    heartbeat: float = request.app.state.heartbeat
    nc = _nc(request)
    if org and nc.tree.unit(org) is None:
        raise HTTPException(422, detail=f"未知单位 {org} / unknown org unit")
    sub = hub.subscribe()  # before the replay, so nothing falls between the two
    start: int | None = since
    if last_event_id and last_event_id.isdigit():
        start = int(last_event_id)

    def wanted(item: dict[str, Any]) -> bool:
        if recipient and item["recipient"] != recipient:
            return False
        return service.visible_to(nc.tree, org, item.get("unit_code"))

    async def events() -> AsyncIterator[str]:
        last = start or 0
        try:
            yield "retry: 3000\n\n"
            if start is not None:
                async with rt.sessions() as session:
                    backlog = await service.list_notifications(
                        session=session,
                        tree=nc.tree,
                        after_seq=start,
                        recipient=recipient,
                        org_code=org,
                        limit=10_000,
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
                if item["seq"] <= last or not wanted(item):
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
    request: Request,
    session: SessionDep,
    case_id: str | None = None,
    recipient: str | None = None,
    org: OrgQuery = None,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await service.list_notifications(
        session=session,
        tree=_nc(request).tree,
        after_seq=after,
        case_id=case_id,
        recipient=recipient,
        org_code=org,
        limit=limit,
    )


@router.get("/api/v1/deliveries", summary="投递记录 / delivery log (by case, address, person)")
async def delivery_log(
    session: SessionDep,
    case_id: str | None = None,
    address: Annotated[str | None, Query(max_length=300)] = None,
    person: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|sent|dead|skipped)$")] = None,
    channel: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    return await service.list_deliveries(
        session=session,
        case_id=case_id,
        address=address,
        person_id=person,
        status=status,
        channel=channel,
        limit=limit,
    )


@router.get("/api/v1/inbox/{person_id}", summary="个人站内信 / a person's in-app inbox")
async def inbox(
    person_id: str,
    request: Request,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    if _nc(request).directory.person(person_id) is None:
        return error_response(404, "not_found", "无此人员", "no such person")
    rows = await service.list_deliveries(
        session=session, person_id=person_id, channel="inbox", limit=limit
    )
    return [r for r in rows if not unread or r["read_at"] is None]


@router.post(
    "/api/v1/inbox/{person_id}/{delivery_id}/read", summary="标记已读 / mark an inbox item read"
)
async def read(person_id: str, delivery_id: str, rt: RuntimeDep, session: SessionDep) -> Any:
    async with session.begin():
        ok = await service.mark_read(
            session=session, person_id=person_id, delivery_id=delivery_id, now=rt.clock.now()
        )
    if not ok:
        return error_response(404, "not_found", "无此站内信", "no such inbox item")
    return {"delivery_id": delivery_id, "read": True}


@router.get("/api/v1/alerts", summary="预警（须签收）/ alerts that must be acknowledged")
async def list_alerts(
    session: SessionDep,
    open: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await service.list_alerts(session=session, open_only=open, limit=limit)


class AckRequest(BaseModel):
    by: str = Field(min_length=1, max_length=60, description="签收人")
    unit_code: str | None = Field(default=None, max_length=30, description="签收单位")
    note: str | None = Field(default=None, max_length=500, description="处置意见")


@router.post("/api/v1/alerts/{alert_id}/ack", summary="签收预警 / acknowledge an alert")
async def acknowledge(alert_id: str, body: AckRequest, rt: RuntimeDep, session: SessionDep) -> Any:
    try:
        async with session.begin():
            row = await service.acknowledge(
                session=session,
                alert_id=alert_id,
                by=body.by,
                unit_code=body.unit_code,
                note=body.note,
                now=rt.clock.now(),
            )
    except service.AlertNotFound:
        return error_response(404, "not_found", "预警不存在", "no such alert")
    except service.AlreadyAcknowledged as exc:
        return error_response(
            409,
            "already_acknowledged",
            f"该预警已由{exc.row.acknowledged_by}签收",
            "already acknowledged",
            acknowledged_by=exc.row.acknowledged_by,
        )
    rt.relay.wake()
    return row


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
const params = new URLSearchParams(location.search);
const org = params.get('org') || '';
if (org) document.querySelector('h1').textContent += '（' + org + '）';
const es = new EventSource('/api/v1/stream?since=0' + (org ? '&org=' + encodeURIComponent(org) : ''));
es.onopen = () => status.textContent = '已连接，实时接收中';
es.onerror = () => status.textContent = '连接中断，正在重连…';
async function ack(alertId, btn) {
  const by = prompt('签收人姓名');
  if (!by) return;
  const r = await fetch('/api/v1/alerts/' + alertId + '/ack', {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify({by, unit_code: org || null})});
  const j = await r.json();
  btn.replaceWith(document.createTextNode(r.ok ? '已签收：' + j.acknowledged_by : j.message));
}
const byEvent = new Map();  // one card per event, listing everyone it went to
es.addEventListener('notification', (e) => {
  const n = JSON.parse(e.data);
  const known = byEvent.get(n.source_event_id);
  if (known) {
    known.recipients.push(n.recipient);
    known.li.querySelector('.r').textContent = known.recipients.join('、');
    return;
  }
  const li = document.createElement('li');
  li.className = n.level;
  li.innerHTML = '<div class="t"></div><div class="b"></div><div class="m"><span class="c"></span> · 送达：<span class="r"></span> · <span class="w"></span></div>';
  li.querySelector('.t').textContent = n.title;
  li.querySelector('.b').textContent = n.body;
  li.querySelector('.c').textContent = n.case_number;
  li.querySelector('.r').textContent = n.recipient;
  li.querySelector('.w').textContent = new Date(n.created_at).toLocaleString('zh-CN', {timeZone: 'Asia/Shanghai'});
  if (n.alert_id) {
    const b = document.createElement('button');
    b.textContent = '签收';
    b.onclick = () => ack(n.alert_id, b);
    li.querySelector('.m').append(' ', b);
  }
  byEvent.set(n.source_event_id, {li, recipients: [n.recipient]});
  list.prepend(li);
});
</script></body></html>"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard() -> str:
    return DASHBOARD_HTML
