from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import add_to_outbox
from xinfang_shared.events import Envelope, EventData, NotificationSent, new_event

from xinfang_notify.messages import compose
from xinfang_notify.models import notifications, outbox

DASHBOARD = "dashboard"
SOURCE = "/xinfang/notify"


def to_public(row: Any) -> dict[str, Any]:
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    m["created_at"] = m["created_at"].isoformat()
    return m


async def record_notifications(
    *, session: AsyncSession, envelope: Envelope, event: EventData, now: datetime
) -> list[dict[str, Any]]:
    """Store one dashboard notification per recipient of the event and announce each with
    ``notification.sent``. Returns the stored rows (for the live stream, after commit)."""
    stored: list[dict[str, Any]] = []
    case_number = getattr(event, "case_number", "")
    for msg in compose(event):
        notification_id = str(uuid.uuid4())
        await session.execute(
            insert(notifications).values(
                notification_id=notification_id,
                source_event_id=envelope.id,
                source_event_type=envelope.type,
                case_id=envelope.subject,
                case_number=case_number,
                channel=DASHBOARD,
                recipient=msg.recipient,
                level=msg.level,
                title=msg.title,
                body=msg.body,
                created_at=now,
            )
        )
        row = (
            await session.execute(
                select(notifications).where(notifications.c.notification_id == notification_id)
            )
        ).one()
        stored.append(to_public(row))
        sent = NotificationSent(
            notification_id=notification_id,
            case_id=envelope.subject,
            source_event_id=envelope.id,
            source_event_type=envelope.type,
            channel=DASHBOARD,
            recipient=msg.recipient,
            title=msg.title,
            sent_at=now,
        )
        await add_to_outbox(
            session,
            outbox,
            new_event(data=sent, source=SOURCE, time=now),
            topic=sent.TOPIC,
            now=now,
        )
    return stored


async def list_notifications(
    *,
    session: AsyncSession,
    after_seq: int = 0,
    case_id: str | None = None,
    recipient: str | None = None,
    limit: int = 500,
) -> list[dict[str, Any]]:
    q = select(notifications).where(notifications.c.seq > after_seq)
    if case_id:
        q = q.where(notifications.c.case_id == case_id)
    if recipient:
        q = q.where(notifications.c.recipient == recipient)
    rows = await session.execute(q.order_by(notifications.c.seq).limit(limit))
    return [to_public(r) for r in rows]
