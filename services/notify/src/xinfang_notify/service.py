"""Notify service functions: record what each recipient is told (the dashboard log), queue its
deliveries on every channel, and keep alerts until someone acknowledges them (escalating them,
and reminding the top of the tree). Petitioners are told in petitioners.py, the logs read in
queries.py. They take a session and never commit: the caller does."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    AlertAcknowledged,
    AlertEscalated,
    CollectiveAlert,
    EmergingAlert,
    Envelope,
    EventData,
    NotificationSent,
    new_event,
)
from xinfang_shared.levels import Deployment

from xinfang_notify import reminders
from xinfang_notify.directory import Directory, unit_of
from xinfang_notify.messages import Message, compose, compose_reminder
from xinfang_notify.models import alerts, deliveries, notifications, outbox
from xinfang_notify.render import Renderer

log = logging.getLogger(__name__)

DASHBOARD = "dashboard"
SOURCE = "/xinfang/notify"
PENDING, SENT, DEAD, SKIPPED = "pending", "sent", "dead", "skipped"
ACK_KINDS = {CollectiveAlert.TYPE: "collective", EmergingAlert.TYPE: "emerging"}
PETITIONER_NOTICES = {
    "accepted": "petitioner_accepted",
    "not_accepted": "petitioner_not_accepted",
    "extended": "petitioner_extended",
    "replied": "petitioner_replied",
}


@dataclass
class NotifyContext:
    tree: org.OrgTree
    directory: Directory
    renderer: Renderer
    public_url: str
    intake_public_url: str
    ack_timeout: timedelta
    sms_templates: dict[str, str] = field(default_factory=dict)
    deployment: Deployment = field(default_factory=lambda: Deployment("339900"))
    # reminders of an unacknowledged alert at the top of the tree (see reminders.py)
    reminder_points: tuple[timedelta, ...] = field(
        default_factory=lambda: reminders.schedule([1, 4, 24], 24, 7)
    )

    def is_top(self, code: str) -> bool:
        unit = self.tree.unit(code)
        return unit is not None and unit.parent is None

    def first_due(self, unit_code: str, since: datetime) -> datetime | None:
        """When an alert that reached ``unit_code`` at ``since`` is next due: one level up
        after the acknowledgement time, or, at the top, the first reminder."""
        if self.is_top(unit_code):
            return reminders.next_point(since, 0, self.reminder_points)
        return since + self.ack_timeout

    def serves(self, code: str | None) -> bool:
        """This level's notify tells the people of ``code`` (one level per unit: no person is
        told twice however many levels read the event)."""
        if code is None:
            return not self.deployment.lower
        return self.deployment.owns(self.tree, code)


class AlertNotFound(LookupError):
    pass


class AlreadyAcknowledged(Exception):
    def __init__(self, row: Any) -> None:
        super().__init__(row.alert_id)
        self.row = row


def to_public(row: Any) -> dict[str, Any]:
    m = dict(row._mapping) if hasattr(row, "_mapping") else dict(row)
    for k, v in m.items():
        if isinstance(v, datetime):
            m[k] = v.isoformat()
    m.pop("secret", None)
    return m


def _case_link(nc: NotifyContext, case_id: str) -> str:
    return f"{nc.public_url}/?case={case_id}"


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
    if envelope.type in ACK_KINDS and nc.serves(_alert_unit(event)):
        alert_id = await _open_alert(session=session, nc=nc, event=event, now=now)
    return await _notify(
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


async def _notify(
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
    link = _case_link(nc, case_id)
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


# --- alerts that must be acknowledged ------------------------------------------------------


def _alert_unit(event: EventData) -> str:
    """The unit that must acknowledge an alert first."""
    if isinstance(event, CollectiveAlert):
        return event.receiving_office_code
    assert isinstance(event, EmergingAlert)
    return unit_of(event.office_code)


async def _open_alert(
    *, session: AsyncSession, nc: NotifyContext, event: EventData, now: datetime
) -> str:
    if isinstance(event, CollectiveAlert):
        alert_id, unit = event.case_id, event.receiving_office_code
        title = f"集体访预警：{event.persons}人 {event.case_number}"
        summary = event.summary
    else:
        assert isinstance(event, EmergingAlert)
        alert_id, unit = event.alert_id, unit_of(event.office_code)
        title = f"群体性苗头预警：{event.place_name} {event.category_name}"
        summary = f"{event.petitioners}名群众反映{event.category_name}"
    await session.execute(
        insert(alerts).values(
            alert_id=alert_id,
            kind=ACK_KINDS[event.TYPE],
            case_id=event.case_id,
            case_number=event.case_number,
            title=title,
            summary=summary,
            origin_unit_code=unit,
            unit_code=unit,
            escalations=0,
            raised_at=now,
            unit_since=now,
            reminders=0,
            next_escalation_at=nc.first_due(unit, now),
        )
    )
    return alert_id


async def acknowledge(
    *,
    session: AsyncSession,
    alert_id: str,
    by: str,
    unit_code: str | None,
    note: str | None,
    now: datetime,
) -> dict[str, Any]:
    row = (await session.execute(select(alerts).where(alerts.c.alert_id == alert_id))).first()
    if row is None:
        raise AlertNotFound(alert_id)
    if row.acknowledged_at is not None:
        raise AlreadyAcknowledged(row)
    await session.execute(
        update(alerts)
        .where(alerts.c.alert_id == alert_id)
        .values(acknowledged_at=now, acknowledged_by=by, ack_note=note, next_escalation_at=None)
    )
    ack = AlertAcknowledged(
        case_id=row.case_id,
        alert_id=alert_id,
        kind=row.kind,
        by=by,
        unit_code=unit_code,
        note=note,
        acknowledged_at=now,
    )
    async with UnitOfWork(session) as uow:
        uow.emit(outbox, new_event(data=ack, source=SOURCE, time=now), now=now)
    done = (await session.execute(select(alerts).where(alerts.c.alert_id == alert_id))).one()
    return to_public(done)


async def escalate_due(
    *, session: AsyncSession, nc: NotifyContext, now: datetime, limit: int = 100
) -> list[dict[str, Any]]:
    """Move every unacknowledged alert whose time is up one level higher and tell that level;
    remind the top of the tree of those that are there (bounded, see reminders.py). Returns
    the new dashboard rows."""
    due = (
        await session.execute(
            select(alerts)
            .where(alerts.c.acknowledged_at.is_(None))
            .where(alerts.c.next_escalation_at <= now)
            .order_by(alerts.c.next_escalation_at)
            .limit(limit)
        )
    ).all()
    stored: list[dict[str, Any]] = []
    for row in due:
        unit = nc.tree.unit(row.unit_code)
        parent = nc.tree.unit(unit.parent) if unit and unit.parent else None
        if parent is None:
            # the top of the tree (or a unit no longer in it): nobody further up
            stored += await _remind(session=session, nc=nc, row=row, now=now)
            continue
        stored += await _escalate(session=session, nc=nc, row=row, to=parent, now=now)
    return stored


async def _escalate(
    *, session: AsyncSession, nc: NotifyContext, row: Any, to: org.OrgUnit, now: datetime
) -> list[dict[str, Any]]:
    escalation = row.escalations + 1
    if not nc.serves(to.code):
        # the level above runs its own deployment: it takes the alert over from here
        since, next_at = now, None
    elif nc.is_top(to.code):
        # the top is told now; its reminders count from now, not from a time a jump skipped
        since, next_at = now, nc.first_due(to.code, now)
    else:
        # due at its scheduled time: after a clock jump it climbs each level once
        since = row.next_escalation_at
        next_at = nc.first_due(to.code, since)
    event = AlertEscalated(
        case_id=row.case_id,
        case_number=row.case_number,
        alert_id=row.alert_id,
        kind=row.kind,
        title=row.title,
        from_unit_code=row.unit_code,
        to_unit_code=to.code,
        to_unit_name=to.name,
        escalation=escalation,
        raised_at=row.raised_at,
        escalated_at=now,
    )
    await session.execute(
        update(alerts)
        .where(alerts.c.alert_id == row.alert_id)
        .values(
            unit_code=to.code,
            escalations=escalation,
            unit_since=since,
            reminders=0,
            next_escalation_at=next_at,
        )
    )
    envelope = new_event(data=event, source=SOURCE, time=now)
    async with UnitOfWork(session) as uow:
        uow.emit(outbox, envelope, now=now)
    return await _notify(
        session=session,
        nc=nc,
        msgs=compose(event, nc.tree),
        source_event_id=envelope.id,
        source_event_type=envelope.type,
        case_id=row.case_id,
        case_number=row.case_number,
        alert_id=row.alert_id,
        now=now,
    )


async def _remind(
    *, session: AsyncSession, nc: NotifyContext, row: Any, now: datetime
) -> list[dict[str, Any]]:
    """Remind the top of an alert still unacknowledged there: once for every reminder point
    passed since the last reminder, however many (a clock jump), then wait for the next."""
    points = nc.reminder_points
    since = row.unit_since or row.raised_at
    passed = reminders.position(since, now, points)
    await session.execute(
        update(alerts)
        .where(alerts.c.alert_id == row.alert_id)
        .values(
            reminders=max(passed, row.reminders),
            next_escalation_at=reminders.next_point(since, passed, points),
        )
    )
    if passed <= row.reminders:
        return []  # nothing new since the last reminder (e.g. the schedule was changed)
    alert = {**dict(row._mapping), "reminder": passed, "reminders_max": len(points)}
    return await _notify(
        session=session,
        nc=nc,
        msgs=compose_reminder(alert, nc.tree),
        # one reminder per alert and point, whoever runs it (the log's unique key)
        source_event_id=f"alert-reminder:{row.alert_id}:{passed}",
        source_event_type="alert.reminder",
        case_id=row.case_id,
        case_number=row.case_number,
        alert_id=row.alert_id,
        now=now,
    )


async def take_over_alert(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    envelope: Envelope,
    e: AlertEscalated,
    now: datetime,
) -> list[dict[str, Any]]:
    """An alert of a lower level's deployment nobody acknowledged there has reached a unit this
    level serves: it is this level's to acknowledge (and to escalate further) now."""
    if not nc.serves(e.to_unit_code) or nc.serves(e.from_unit_code):
        return []  # ours already (we escalated it), or not for us
    found = (await session.execute(select(alerts).where(alerts.c.alert_id == e.alert_id))).first()
    values = {
        "unit_code": e.to_unit_code,
        "escalations": e.escalation,
        "unit_since": now,
        "reminders": 0,
        "next_escalation_at": nc.first_due(e.to_unit_code, now),
    }
    if found is None:
        await session.execute(
            insert(alerts).values(
                alert_id=e.alert_id,
                kind=e.kind,
                case_id=e.case_id,
                case_number=e.case_number,
                title=e.title,
                summary=e.title,
                origin_unit_code=e.from_unit_code,
                raised_at=e.raised_at,
                **values,
            )
        )
    elif found.acknowledged_at is None:
        await session.execute(
            update(alerts).where(alerts.c.alert_id == e.alert_id).values(**values)
        )
    return await _notify(
        session=session,
        nc=nc,
        msgs=compose(e, nc.tree),
        source_event_id=envelope.id,
        source_event_type=envelope.type,
        case_id=e.case_id,
        case_number=e.case_number,
        alert_id=e.alert_id,
        now=now,
    )


async def note_acknowledged(*, session: AsyncSession, e: AlertAcknowledged) -> None:
    """Another level acknowledged an alert this level also holds: it stops waiting here."""
    await session.execute(
        update(alerts)
        .where(alerts.c.alert_id == e.alert_id, alerts.c.acknowledged_at.is_(None))
        .values(
            acknowledged_at=e.acknowledged_at,
            acknowledged_by=e.by[:60],
            ack_note=(e.note or "")[:500] or None,
            next_escalation_at=None,
        )
    )


async def list_alerts(
    *, session: AsyncSession, open_only: bool = False, limit: int = 200
) -> list[dict[str, Any]]:
    q = select(alerts).order_by(alerts.c.raised_at.desc()).limit(limit)
    if open_only:
        q = q.where(alerts.c.acknowledged_at.is_(None))
    return [to_public(r) for r in await session.execute(q)]
