"""HTTP API: the live Server-Sent-Events stream, the notification and delivery logs, in-app
inboxes and the alerts to acknowledge. Every call names its caller (a token in the
Authorization header or the dashboard's session cookie, see :mod:`.auth`); each caller sees
what is addressed inside their org subtree, and an item outside it is answered as missing."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from xinfang_shared.auth.deps import not_found_outside_scope
from xinfang_shared.auth.schemas import PrincipalRead
from xinfang_shared.auth.scope import Scope, unit_of
from xinfang_shared.auth.security import actor_name
from xinfang_shared.auth.service import principal_read
from xinfang_shared.http import error_body, error_response
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.text import MultiLine, SingleLine

from xinfang_notify import models
from xinfang_notify.auth import CurrentScope, get_principal, narrow, sees, within
from xinfang_notify.context import NotifyContext
from xinfang_notify.deps import NotifyDep
from xinfang_notify.notifications import alerts, service
from xinfang_notify.notifications.schemas import (
    AlertListItemRead,
    AlertRead,
    DeliveryRead,
    InboxItemMarkedRead,
    NotificationRead,
)

router = APIRouter(prefix="/api/v1", tags=["notify 通知"], dependencies=[Depends(get_principal)])
ALERT_NOT_FOUND = error_body("not_found", "预警不存在", "no such alert")
PERSON_NOT_FOUND = error_body("not_found", "无此人员", "no such person")


SEQ_MAX = 2**31 - 1  # the log's ids (an INTEGER column): a bigger ?after=/?since= is no id
SeqQuery = Annotated[int, Query(ge=0, le=SEQ_MAX)]
PersonPath = Annotated[SingleLine, Path(max_length=60)]
NOT_A_SIGNER_ARGS = {
    "code": "not_a_signer",
    "zh": "您的角色不负责签收该单位的预警",
    "en": "your role does not acknowledge the alerts of this unit",
}


def parse_last_event_id(value: str | None) -> int | None:
    """The id a reconnecting EventSource sends; anything that is not one is ignored."""
    if value is None or not value.isascii() or not value.isdigit():
        return None
    seq = int(value)
    return seq if seq <= SEQ_MAX else None


def named(nc: NotifyContext, item: dict[str, Any]) -> dict[str, Any]:
    """A notification as a person reads it: who it went to by name, not by code."""
    return {**item, "recipient_name": nc.directory.recipient_name(item["recipient"], nc.tree)}


def sse_frame(item: dict[str, Any]) -> str:
    data = json.dumps(item, ensure_ascii=False)
    return f"id: {item['seq']}\nevent: notification\ndata: {data}\n\n"


OrgQuery = Annotated[
    SingleLine | None,
    Query(
        max_length=30,
        description="只看本单位及下级（须在本账号范围内）/ only this org unit and the units below "
        "it (inside the caller's scope)",
    ),
]


def notification_filter(scope: Scope, org: str | None) -> Callable[[dict[str, Any]], bool]:
    """What of the notification log the caller sees, narrowed to ``org`` (checked here)."""
    org = narrow(scope, org)

    def keep(item: dict[str, Any]) -> bool:
        code = item.get("unit_code")
        return sees(scope, code) and within(scope, org, code)

    return keep


def alert_visible(scope: Scope, row: Any) -> bool:
    """An alert is seen where it must be acknowledged now and where it was raised."""
    m = row if isinstance(row, dict) else row._mapping
    return sees(scope, m["unit_code"]) or sees(scope, m["origin_unit_code"])


async def _take(
    fetch: Callable[[int], Awaitable[list[dict[str, Any]]]],
    keep: Callable[[dict[str, Any]], bool],
    limit: int,
) -> list[dict[str, Any]]:
    """The first ``limit`` rows that ``keep`` lets through, fetching more until there are
    enough or none are left (the filter runs after the query's own limit)."""
    n = limit
    while True:
        rows = await fetch(n)
        kept = [r for r in rows if keep(r)]
        if len(kept) >= limit or len(rows) < n:
            return kept[:limit]
        n *= 4


@router.get("/me", summary="当前用户 / who is calling", response_model=PrincipalRead)
async def me(scope: CurrentScope) -> PrincipalRead:
    return principal_read(scope.principal, scope.tree)


@router.get(
    "/stream",
    summary="实时通知流（SSE）/ live notification stream",
    response_class=StreamingResponse,
)
async def stream(
    request: Request,
    notify: NotifyDep,
    rt: RuntimeDep,
    scope: CurrentScope,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[
        int | None, Query(ge=0, le=SEQ_MAX, description="replay notifications after this id")
    ] = None,
    recipient: Annotated[SingleLine | None, Query(max_length=60)] = None,
    org: OrgQuery = None,
) -> StreamingResponse:
    """The caller's notifications as they happen. The stream ends when the caller's token
    expires (a browser reconnects, is refused and logs in again)."""
    hub, nc = notify.hub, notify.nc
    heartbeat = notify.settings.sse_heartbeat_s
    visible = notification_filter(scope, org)
    expires: int = request.state.token_expires
    sub = hub.subscribe()  # before the replay, so nothing falls between the two
    resumed = parse_last_event_id(last_event_id)
    start: int | None = since if resumed is None else resumed

    def wanted(item: dict[str, Any]) -> bool:
        if recipient and item["recipient"] != recipient:
            return False
        return visible(item)

    def expired() -> bool:
        # the token's time is up, or its account was disabled meanwhile (auth.revocation)
        # token time is the wall clock, not the demo clock (auth.deps.get_wall_clock)
        return time.time() >= expires or rt.revocations.revoked(scope.principal)

    async def events() -> AsyncIterator[str]:
        last = start or 0
        try:
            yield "retry: 3000\n\n"
            if start is None:
                # a client that asked for no replay still hears at once that it is connected
                yield (
                    ": 已连接，实时通知将陆续推送（?since=0 可回放全部记录）/ connected: live "
                    "notifications follow (?since=0 replays the log)\n\n"
                )
            else:
                async with rt.sessions() as session:
                    backlog = await service.list_notifications(
                        session=session,
                        tree=nc.tree,
                        after_seq=start,
                        recipient=recipient,
                        limit=10_000,
                    )
                for item in backlog:
                    last = item["seq"]
                    if visible(item):
                        yield sse_frame(named(nc, item))
            while not sub.dropped and not expired():
                try:
                    item = await asyncio.wait_for(sub.queue.get(), heartbeat)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"
                    continue
                if not item:
                    return  # the hub was closed: shutting down
                if item["seq"] <= last or not wanted(item) or expired():
                    continue
                last = item["seq"]
                yield sse_frame(named(nc, item))
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/notifications",
    summary="通知记录 / notification log",
    response_model=list[NotificationRead],
)
async def notifications(
    notify: NotifyDep,
    scope: CurrentScope,
    session: SessionDep,
    case_id: Annotated[SingleLine | None, Query(max_length=64)] = None,
    recipient: Annotated[SingleLine | None, Query(max_length=60)] = None,
    org: OrgQuery = None,
    after: SeqQuery = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    nc = notify.nc
    tree = nc.tree

    async def fetch(n: int) -> list[dict[str, Any]]:
        return await service.list_notifications(
            session=session,
            tree=tree,
            after_seq=after,
            case_id=case_id,
            recipient=recipient,
            limit=n,
        )

    return [named(nc, n) for n in await _take(fetch, notification_filter(scope, org), limit)]


@router.get(
    "/deliveries",
    summary="投递记录 / delivery log (by case, address, person)",
    response_model=list[DeliveryRead],
)
async def delivery_log(
    notify: NotifyDep,
    scope: CurrentScope,
    session: SessionDep,
    case_id: Annotated[SingleLine | None, Query(max_length=64)] = None,
    address: Annotated[SingleLine | None, Query(max_length=300)] = None,
    person: Annotated[SingleLine | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(pattern="^(pending|sent|dead|skipped)$")] = None,
    channel: Annotated[SingleLine | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[dict[str, Any]]:
    directory = notify.nc.directory

    def keep(row: dict[str, Any]) -> bool:
        # seen where the message was addressed, or where the person it went to works
        if sees(scope, directory.unit_of_recipient(row["recipient"])):
            return True
        who = directory.person(row["person_id"]) if row["person_id"] else None
        return who is not None and sees(scope, who.unit)

    async def fetch(n: int) -> list[dict[str, Any]]:
        return await service.list_deliveries(
            session=session,
            case_id=case_id,
            address=address,
            person_id=person,
            status=status,
            channel=channel,
            limit=n,
        )

    return await _take(fetch, keep, limit)


def _person_in_scope(nc: NotifyContext, scope: Scope, person_id: str) -> None:
    person = nc.directory.person(person_id)
    if person is None or not sees(scope, person.unit):
        not_found_outside_scope(PERSON_NOT_FOUND)


@router.get(
    "/inbox/{person_id}",
    summary="个人站内信 / a person's in-app inbox",
    response_model=list[DeliveryRead],
)
async def inbox(
    person_id: PersonPath,
    notify: NotifyDep,
    scope: CurrentScope,
    session: SessionDep,
    unread: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Any:
    _person_in_scope(notify.nc, scope, person_id)
    rows = await service.list_deliveries(
        session=session, person_id=person_id, channel="inbox", limit=limit
    )
    return [r for r in rows if not unread or r["read_at"] is None]


@router.post(
    "/inbox/{person_id}/{delivery_id}/read",
    summary="标记已读 / mark an inbox item read",
    response_model=InboxItemMarkedRead,
)
async def read(
    person_id: PersonPath,
    delivery_id: Annotated[SingleLine, Path(max_length=36)],
    notify: NotifyDep,
    rt: RuntimeDep,
    scope: CurrentScope,
    session: SessionDep,
) -> Any:
    _person_in_scope(notify.nc, scope, person_id)
    async with session.begin():
        ok = await service.mark_read(
            session=session, person_id=person_id, delivery_id=delivery_id, now=rt.clock.now()
        )
    if not ok:
        not_found_outside_scope(error_body("not_found", "无此站内信", "no such inbox item"))
    return {"delivery_id": delivery_id, "read": True}


def signs_for(nc: NotifyContext, scope: Scope, unit_code: str) -> bool:
    """May the caller acknowledge an alert awaiting ``unit_code``? The roles the directory
    names for the unit (a service account acts for the person it names)."""
    principal = scope.principal
    return principal.kind == "service" or nc.directory.signs_for(
        principal.role.value, unit_code, nc.tree
    )


@router.get(
    "/alerts",
    summary="预警（须签收）/ alerts that must be acknowledged",
    response_model=list[AlertListItemRead],
)
async def list_alerts(
    notify: NotifyDep,
    scope: CurrentScope,
    session: SessionDep,
    open: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Each with ``can_acknowledge``: whether the caller may sign for it now (the dashboard
    shows its 签收 button then only)."""
    nc = notify.nc

    async def fetch(n: int) -> list[dict[str, Any]]:
        return await alerts.list_alerts(session=session, open_only=open, limit=n)

    rows = await _take(fetch, lambda a: alert_visible(scope, a), limit)
    return [
        {
            **a,
            "can_acknowledge": a["acknowledged_at"] is None
            and signs_for(nc, scope, a["unit_code"]),
        }
        for a in rows
    ]


class AckRequest(BaseModel):
    by: SingleLine | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description="签收人：登录用户本人；仅服务账号可代为填写 / recorded as the logged-in "
        "user; only a service account may name the person it acts for",
    )
    unit_code: SingleLine | None = Field(
        default=None,
        max_length=30,
        description="签收单位：登录用户的单位；仅服务账号可填写 / the caller's unit; only a "
        "service account may name one (inside its scope)",
    )
    note: MultiLine | None = Field(default=None, max_length=500, description="处置意见")


@router.post(
    "/alerts/{alert_id}/ack",
    summary="签收预警 / acknowledge an alert",
    response_model=AlertRead,
    responses={409: {"description": "该预警已签收 / already acknowledged"}},
)
async def acknowledge(
    alert_id: Annotated[SingleLine, Path(max_length=36)],
    notify: NotifyDep,
    rt: RuntimeDep,
    scope: CurrentScope,
    session: SessionDep,
    body: AckRequest | None = None,
) -> Any:
    body = body or AckRequest()
    principal = scope.principal
    unit_code = principal.org_code
    if principal.kind == "service" and body.unit_code is not None:
        if unit_of(scope.tree, body.unit_code) is None or not scope.covers(body.unit_code):
            return error_response(
                422,
                "validation_error",
                f"签收单位 {body.unit_code} 不存在或不在本账号范围内",
                f"unit_code {body.unit_code} is not an org unit in the caller's scope",
            )
        unit_code = body.unit_code
    try:
        async with session.begin():
            found = (
                await session.execute(
                    select(models.alerts).where(models.alerts.c.alert_id == alert_id)
                )
            ).first()
            if found is None or not alert_visible(scope, found):
                not_found_outside_scope(ALERT_NOT_FOUND)
            if not signs_for(notify.nc, scope, found.unit_code):
                return error_response(403, **NOT_A_SIGNER_ARGS)
            row = await alerts.acknowledge(
                session=session,
                alert_id=alert_id,
                by=actor_name(principal, body.by),
                unit_code=unit_code,
                note=body.note,
                now=rt.clock.now(),
            )
    except alerts.AlertNotFound:
        not_found_outside_scope(ALERT_NOT_FOUND)
    except alerts.AlreadyAcknowledged as exc:
        return error_response(
            409,
            "already_acknowledged",
            f"该预警已由{exc.row.acknowledged_by}签收",
            "already acknowledged",
            acknowledged_by=exc.row.acknowledged_by,
        )
    rt.relay.wake()
    return row
