"""Telling petitioners about their own case: the receipt with the 查询码 when a petition is
registered, and each step of its handling (受理, 不予受理, 延期, 答复) by SMS and e-mail. The
functions take a session and never commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.events import CaseStatusChanged, Envelope, EventData, PetitionReceived

from xinfang_notify.context import NotifyContext
from xinfang_notify.models import case_contacts, deliveries
from xinfang_notify.notifications.messages import Message
from xinfang_notify.notifications.telling import delivery_row

# the template that tells the petitioner of each step of the handling
PETITIONER_NOTICES = {
    "accepted": "petitioner_accepted",
    "not_accepted": "petitioner_not_accepted",
    "extended": "petitioner_extended",
    "replied": "petitioner_replied",
}


async def on_petition_received(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    envelope: Envelope,
    p: PetitionReceived,
    now: datetime,
) -> None:
    """Keep the petitioner's contact details and send the receipt with the 查询码. An informant
    of an accusation (检举控告) is sealed in intake: the event names no one and carries no
    query code (the informant gets it at the desk), so there is no one to tell. The level whose
    office registered the petition keeps in touch with the petitioner."""
    if p.anonymous or p.informant_sealed or not p.petitioners:
        return
    if not nc.serves(p.receiving_office_code):
        return
    first = p.petitioners[0]
    contact = {
        "case_id": p.case_id,
        "case_number": p.case_number,
        "name": first.name,
        "phone": first.phone,
        "email": first.email,
        "query_code": p.query_code,
        "office_name": p.receiving_office_name,
    }
    await session.execute(insert(case_contacts).values(**contact))
    await _tell_petitioner(
        session=session,
        nc=nc,
        kind="petitioner_receipt",
        contact=contact,
        event=p,
        source_event_id=envelope.id,
        now=now,
    )


async def on_status_changed(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    envelope: Envelope,
    e: CaseStatusChanged,
    now: datetime,
) -> None:
    kind = PETITIONER_NOTICES.get(e.new_status)
    if kind is None or e.old_status == e.new_status:
        return
    row = (
        await session.execute(select(case_contacts).where(case_contacts.c.case_id == e.case_id))
    ).first()
    if row is None:
        return
    await _tell_petitioner(
        session=session,
        nc=nc,
        kind=kind,
        contact=dict(row._mapping),
        event=e,
        source_event_id=envelope.id,
        now=now,
    )


async def _tell_petitioner(
    *,
    session: AsyncSession,
    nc: NotifyContext,
    kind: str,
    contact: dict[str, Any],
    event: EventData,
    source_event_id: str,
    now: datetime,
) -> None:
    link = f"{nc.intake_public_url}/cx/{contact['query_code']}" if contact["query_code"] else None
    msg = Message("petitioner", "info", kind, {"e": event, "c": contact})
    title, body = nc.renderer.render(kind, {**msg.ctx, "link": link})
    rows = [
        delivery_row(
            nc,
            msg,
            channel=channel,
            address=address,
            person_id=None,
            subject=title,
            body=body,
            source_event_id=source_event_id,
            case_id=contact["case_id"],
            case_number=contact["case_number"],
            link=link,
            now=now,
        )
        for channel, address in (("sms", contact["phone"]), ("email", contact["email"]))
        if address
    ]
    if rows:
        await session.execute(insert(deliveries), rows)
