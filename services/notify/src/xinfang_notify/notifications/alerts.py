"""Alerts that someone must acknowledge (集体访, 群体性苗头): opened when the event arrives,
escalated a level up when nobody signs in time, the top of the tree reminded, taken over from
another level's notify, acknowledged (签收). Functions take a session and never commit."""

from __future__ import annotations

from datetime import datetime
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
    new_event,
)

from xinfang_notify.context import SOURCE, NotifyContext
from xinfang_notify.delivery import reminders
from xinfang_notify.directory import unit_of
from xinfang_notify.models import alerts, outbox
from xinfang_notify.notifications.messages import compose, compose_reminder
from xinfang_notify.notifications.telling import notify_recipients, to_public

ACK_KINDS = {CollectiveAlert.TYPE: "collective", EmergingAlert.TYPE: "emerging"}


class AlertNotFound(LookupError):
    pass


class AlreadyAcknowledged(Exception):
    def __init__(self, row: Any) -> None:
        super().__init__(row.alert_id)
        self.row = row


def alert_unit(event: EventData) -> str:
    """The unit that must acknowledge an alert first."""
    if isinstance(event, CollectiveAlert):
        return event.receiving_office_code
    assert isinstance(event, EmergingAlert)
    return unit_of(event.office_code)


async def open_alert(
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
    return await notify_recipients(
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
    return await notify_recipients(
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
    return await notify_recipients(
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
