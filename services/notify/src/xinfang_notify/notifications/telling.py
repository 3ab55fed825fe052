"""Telling recipients: one dashboard notification per recipient of a message, and its
deliveries on every channel of the people and robots behind the recipient (one per address),
rendered from the message's template. Functions take a session and never commit."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    NotificationSent,
    new_event,
)

from xinfang_notify.context import PENDING, SENT, SOURCE, NotifyContext
from xinfang_notify.models import deliveries, notifications, outbox
from xinfang_notify.notifications.messages import Message

log = logging.getLogger(__name__)

DASHBOARD = "dashboard"


def to_public(row: Any) -> dict[str, Any]:
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    for k, v in m.items():
        if isinstance(v, datetime):
            m[k] = v.isoformat()
    m.pop("secret", None)
    return m


def case_link(nc: NotifyContext, case_id: str) -> str:
    return f"{nc.public_url}/?case={case_id}"


async def notify_recipients(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    msgs: list[Message],
    source_event_id: str,
    source_event_type: str,
    case_id: str,
    case_number: str,
    alert_id: str | None,
    now: datetime,
) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    # one delivery per channel and address per event, and per alert per period: whoever was
    # told of this alert lately (its first message, an escalation a moment ago) is not told again
    addressed: set[tuple[str, str]] = (
        await _told_lately(session=session, alert_id=alert_id, since=now - nc.ack_timeout)
        if alert_id
        else set()
    )
    link = case_link(nc, case_id)
    primary = nc.directory.unit_of_recipient(msgs[0].recipient) if msgs else None
    for msg in msgs:
        # A unit's dashboard is kept by the level that serves the unit (a leader's copy goes
        # with the primary recipient), and each person or robot is told by the level that
        # serves their own unit: a city duty officer watching a county is told once, by the city.
        on_dashboard = nc.serves(nc.directory.unit_of_recipient(msg.recipient) or primary)
        people, robots = nc.directory.resolve(msg.recipient, msg.level, nc.tree)
        people = [p for p in people if nc.serves(p.unit)]
        robots = [r for r in robots if nc.serves(r.unit)]
        if not (on_dashboard or people or robots):
            continue
        ctx = {**msg.ctx, "link": link}
        title, body = _render(nc, msg, ctx, case_number)
        if msg.copy:
            title = f"【包案】{title}"
        notification_id = str(uuid.uuid4())
        row = {
            "notification_id": notification_id,
            "source_event_id": source_event_id,
            "source_event_type": source_event_type,
            "case_id": case_id,
            "case_number": case_number,
            "channel": DASHBOARD,
            "recipient": msg.recipient,
            "unit_code": nc.directory.unit_of_recipient(msg.recipient),
            "alert_id": alert_id,
            "level": msg.level,
            "title": title[:200],
            "body": body,
            "link": link,
            "created_at": now,
        }
        if on_dashboard:
            seq = (
                await session.execute(
                    insert(notifications).values(**row).returning(notifications.c.seq)
                )
            ).scalar_one()
            stored.append(to_public({**row, "seq": seq}))
        rows: list[dict[str, Any]] = []
        for person in people:
            if person.locale != "zh-CN":
                p_title, p_body = _render(nc, msg, ctx, case_number, person.locale)
            else:
                p_title, p_body = title, body
            for channel in person.channels:
                address = {"inbox": person.id, "email": person.email, "sms": person.phone}[channel]
                if not address or (channel, address) in addressed:
                    continue
                addressed.add((channel, address))
                rows.append(
                    delivery_row(
                        nc,
                        msg,
                        channel=channel,
                        address=address,
                        person_id=person.id,
                        subject=p_title,
                        body=p_body,
                        source_event_id=source_event_id,
                        case_id=case_id,
                        case_number=case_number,
                        link=link,
                        now=now,
                        alert_id=alert_id,
                    )
                )
        for robot in robots:
            if (robot.kind, robot.url) in addressed:
                continue
            addressed.add((robot.kind, robot.url))
            rows.append(
                delivery_row(
                    nc,
                    msg,
                    channel=robot.kind,
                    address=robot.url,
                    person_id=None,
                    subject=title,
                    body=body,
                    source_event_id=source_event_id,
                    case_id=case_id,
                    case_number=case_number,
                    link=link,
                    now=now,
                    secret=robot.secret,
                    alert_id=alert_id,
                )
            )
        if rows:
            await session.execute(insert(deliveries), rows)
        if not on_dashboard:
            continue
        sent = NotificationSent(
            notification_id=notification_id,
            case_id=case_id,
            source_event_id=source_event_id,
            source_event_type=source_event_type,
            channel=DASHBOARD,
            recipient=msg.recipient,
            title=title[:200],
            sent_at=now,
        )
        async with UnitOfWork(session) as uow:
            uow.emit(outbox, new_event(data=sent, source=SOURCE, time=now), now=now)
    return stored


def _render(
    nc: NotifyContext, msg: Message, ctx: dict[str, Any], case_number: str, locale: str = "zh-CN"
) -> tuple[str, str]:
    """The message's words; if its template cannot be rendered from our own data, a plain
    notice pointing to the dashboard (logged): a person must still be told."""
    try:
        return nc.renderer.render(msg.kind, ctx, locale)
    except Exception:
        log.exception("notify: cannot render %s for %s; sending the plain notice", msg.kind, msg)
        return nc.renderer.render(
            "fallback", {"case_number": case_number, "link": ctx.get("link", "")}, locale
        )


async def _told_lately(
    *, session: AsyncSession, alert_id: str, since: datetime
) -> set[tuple[str, str]]:
    rows = await session.execute(
        select(deliveries.c.channel, deliveries.c.address)
        .where(deliveries.c.alert_id == alert_id)
        .where(deliveries.c.created_at > since)
    )
    return {(r.channel, r.address) for r in rows}


def delivery_row(
    nc: NotifyContext,
    msg: Message,
    *,
    channel: str,
    address: str,
    person_id: str | None,
    subject: str,
    body: str,
    source_event_id: str,
    case_id: str,
    case_number: str,
    link: str | None,
    now: datetime,
    secret: str | None = None,
    recipient: str | None = None,
    alert_id: str | None = None,
) -> dict[str, Any]:
    inbox = channel == "inbox"  # the in-app inbox is delivered by being written
    if channel == "sms":  # one text, no subject line: lead with the title
        body = f"【{subject}】{body}"
    return {
        "delivery_id": str(uuid.uuid4()),
        "source_event_id": source_event_id,
        "case_id": case_id,
        "case_number": case_number,
        "channel": channel,
        "address": address,
        "person_id": person_id,
        "recipient": recipient or msg.recipient,
        "level": msg.level,
        "subject": subject[:200],
        "body": body,
        "link": link,
        "secret": secret,
        "template_id": nc.sms_templates.get(msg.kind, msg.kind) if channel == "sms" else None,
        "params": json.dumps(_sms_params(msg), ensure_ascii=False) if channel == "sms" else None,
        "status": SENT if inbox else PENDING,
        "attempts": 0,
        # a new delivery is due at once by the sender's own clock (none: it never waits for a
        # notice dated by a clock the sender has not caught up with yet)
        "next_attempt_at": None,
        "last_error": None,
        "receipt": "inbox" if inbox else None,
        "created_at": now,
        "sent_at": now if inbox else None,
        "read_at": None,
        "alert_id": alert_id,
    }


def _sms_params(msg: Message) -> dict[str, str]:
    """Template parameters for SMS gateways (which send only pre-approved templates)."""
    out: dict[str, str] = {}
    e = msg.ctx.get("e")
    c = msg.ctx.get("c")
    for name in ("case_number", "persons", "days_left", "due_date", "place_name", "category_name"):
        v = getattr(e, name, None)
        if v is not None:
            out[name] = str(v)
    if c is not None:
        out.update(name=c["name"], case_number=c["case_number"], query_code=c["query_code"] or "")
    return out
