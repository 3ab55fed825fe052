"""What one event causes (the notifications, their deliveries, an alert to acknowledge), and
what the API reads: the notification log, the delivery log and inboxes (the caller's view is
filtered in views.py). Functions take a session and never commit: the caller does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.events import (
    Envelope,
    EventData,
)

from xinfang_notify.context import NotifyContext
from xinfang_notify.directory import unit_of
from xinfang_notify.models import deliveries, notifications
from xinfang_notify.notifications.alerts import ACK_KINDS, alert_unit, open_alert
from xinfang_notify.notifications.messages import compose
from xinfang_notify.notifications.telling import notify_recipients, to_public


async def record_notifications(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    envelope: Envelope,
    event: EventData,
    now: datetime,
) -> list[dict[str, Any]]:
    """Everything one event causes: one dashboard notification per recipient, deliveries to
    the people and robots behind each recipient (one per address), and, for alerts that must
    be acknowledged, the alert itself. Returns the dashboard rows for the live stream."""
    alert_id: str | None = None
    if envelope.type in ACK_KINDS and nc.serves(alert_unit(event)):
        alert_id = await open_alert(session=session, nc=nc, event=event, now=now)
    return await notify_recipients(
        session=session,
        nc=nc,
        msgs=compose(event, nc.tree),
        source_event_id=envelope.id,
        source_event_type=envelope.type,
        case_id=envelope.subject,
        case_number=getattr(event, "case_number", ""),
        alert_id=alert_id,
        now=now,
    )


def visible_to(tree: org.OrgTree, org_code: str | None, unit_code: str | None) -> bool:
    """Whether a dashboard of ``org_code`` may see a notification for ``unit_code``: its own
    unit and everything below it."""
    if not org_code:
        return True
    if not unit_code:
        return False
    unit = unit_of(unit_code)
    return unit == org_code or tree.is_ancestor(org_code, unit)


async def list_notifications(
    *,
    session: AsyncSession,
    tree: org.OrgTree,
    after_seq: int = 0,
    case_id: str | None = None,
    recipient: str | None = None,
    org_code: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    q = select(notifications).where(notifications.c.seq > after_seq)
    if case_id:
        q = q.where(notifications.c.case_id == case_id)
    if recipient:
        q = q.where(notifications.c.recipient == recipient)
    rows = await session.execute(q.order_by(notifications.c.seq).limit(limit))
    return [to_public(r) for r in rows if visible_to(tree, org_code, r.unit_code)]


async def list_deliveries(
    *,
    session: AsyncSession,
    case_id: str | None = None,
    address: str | None = None,
    person_id: str | None = None,
    status: str | None = None,
    channel: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    q = select(deliveries)
    if case_id:
        q = q.where(deliveries.c.case_id == case_id)
    if address:
        q = q.where(deliveries.c.address == address)
    if person_id:
        q = q.where(deliveries.c.person_id == person_id)
    if status:
        q = q.where(deliveries.c.status == status)
    if channel:
        q = q.where(deliveries.c.channel == channel)
    rows = await session.execute(q.order_by(deliveries.c.id).limit(limit))
    return [to_public(r) for r in rows]


async def mark_read(
    *, session: AsyncSession, person_id: str, delivery_id: str, now: datetime
) -> bool:
    result = await session.execute(
        update(deliveries)
        .where(deliveries.c.delivery_id == delivery_id)
        .where(deliveries.c.person_id == person_id)
        .where(deliveries.c.channel == "inbox")
        .values(read_at=now)
        .returning(deliveries.c.id)
    )
    return result.first() is not None
