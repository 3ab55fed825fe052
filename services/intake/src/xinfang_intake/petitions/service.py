"""Petition service functions. They take the session and never commit: the caller does."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.classifier import Model
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseLinked,
    CaseRouted,
    CaseStatusChanged,
    CollectiveAlert,
    Envelope,
    PetitionerInfo,
    PetitionReceived,
    new_event,
)
from xinfang_shared.status import CaseStatus, status_label

from xinfang_intake.petitions.accusation import (
    INFORMANT_PLACEHOLDER,
    SEALED_BECAUSE,
    accusation_reason,
    sealed_context,
)
from xinfang_intake.petitions.models import (
    history,
    idempotency_keys,
    outbox,
    petitioners,
    petitions,
    sealed_informants,
)
from xinfang_intake.petitions.progress import deadline_view, stamp_met
from xinfang_intake.petitions.schemas import (
    CHANNEL_LABELS,
    Channel,
    HistoryEntry,
    PetitionCreate,
    PetitionCreated,
    PetitionStatusRead,
)
from xinfang_intake.petitions.sealing import InformantCipher
from xinfang_intake.petitions.validation import id_hash, mask_id_number

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
QUERY_CODE_LENGTH = 10


class PetitionNotFound(LookupError):
    pass


class IdempotencyKeyReused(ValueError):
    """The key was used before for a request with a different body."""


def request_hash(data: PetitionCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def stored_responses(
    *, session: AsyncSession, keys: list[str]
) -> dict[str, tuple[str, dict[str, Any]]]:
    """key -> (request hash, stored response) for the keys that were used before."""
    if not keys:
        return {}
    rows = await session.execute(
        select(
            idempotency_keys.c.key, idempotency_keys.c.request_hash, idempotency_keys.c.response
        ).where(idempotency_keys.c.key.in_(keys))
    )
    return {r.key: (r.request_hash, r.response) for r in rows}


def is_query_code(text: str) -> bool:
    """Could ``text`` (upper-cased) be a query code? (Anything else is not looked up.)"""
    return 4 <= len(text) <= 16 and all(c in QUERY_CODE_ALPHABET for c in text)


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


@dataclass
class Registration:
    """One petition's rows, prepared without I/O; :func:`insert_registrations` writes them."""

    created: PetitionCreated
    petition: dict[str, Any]
    petitioners: list[dict[str, Any]]
    history: dict[str, Any]
    events: list[Envelope]  # for the outbox, dated ``at``
    at: datetime
    idempotency: dict[str, Any] | None = None
    sealed: dict[str, Any] | None = None  # 检举控告: the encrypted identity of the informants


def prepare_registration(
    *,
    data: PetitionCreate,
    case_number: str,
    now: datetime,
    source: str,
    id_salt: str,
    collective_threshold: int,
    cipher: InformantCipher,
    model: Model,
    idempotency_key: str | None = None,
    request_hash: str = "",
) -> Registration:
    """The petition, its petitioners, its first history entry, its events and its
    Idempotency-Key, as rows (no I/O). An accusation's informants are sealed: their identity
    is encrypted into one value, their rows and the event hold a placeholder name only."""
    office = org.get_unit(data.receiving_office_code)
    assert office is not None  # validated by the schema
    received_at = received_time(data, now)
    case_id = str(uuid.uuid4())
    query_code = new_query_code()
    persons = data.persons or 1
    collective = persons >= collective_threshold
    petition = dict(
        case_id=case_id,
        case_number=case_number,
        query_code=query_code,
        channel=data.channel.value,
        anonymous=data.anonymous,
        persons=persons,
        receiving_office_code=office.code,
        matter_location_code=data.matter_location_code,
        matter_address=data.matter_address,
        category=data.category,
        title=data.title,
        content=data.content,
        collective=collective,
        received_at=received_at,
        registered_at=now,
        status=CaseStatus.REGISTERED.value,
        status_at=now,
        letter_date=data.letter_date,
        caller_phone=data.caller_phone,
        repeat_of=data.repeat_of,
    )
    sealed_because = accusation_reason(data, model=model)
    sealed = sealed_because is not None
    infos: list[PetitionerInfo] = []
    rows = []
    identities = []
    for i, p in enumerate(data.petitioners):
        identity = {
            "name": p.name,
            "id_number": p.id_number,
            "phone": p.phone,
            "email": str(p.email) if p.email else None,
            "address": p.address,
        }
        if sealed:
            if i == 0 and not identity["phone"]:
                identity["phone"] = data.caller_phone  # the number the informant called from
            # nothing that identifies the informant in clear: no ID hash either (a salted
            # hash of an ID number is a lookup away from the person), so sealed items are
            # never matched as repeats by identity
            identities.append(identity)
            blank = dict.fromkeys(identity, None) | {"id_hash": None}
            rows.append(
                {
                    "case_id": case_id,
                    "position": i,
                    **blank,
                    "name": INFORMANT_PLACEHOLDER,
                    "representative": p.representative,
                }
            )
            infos.append(PetitionerInfo(name=INFORMANT_PLACEHOLDER))
            continue
        hashed = id_hash(p.id_number, id_salt) if p.id_number else None
        rows.append(
            {
                "case_id": case_id,
                "position": i,
                **identity,
                "id_hash": hashed,
                "representative": p.representative,
            }
        )
        infos.append(
            PetitionerInfo(
                name=p.name,
                id_number_masked=mask_id_number(p.id_number) if p.id_number else None,
                id_hash=hashed,
                phone=identity["phone"],
                email=identity["email"],
                address=p.address,
            )
        )
    if sealed:
        petition["caller_phone"] = None  # an informant's number is sealed with their identity
        if not identities and data.caller_phone:
            identities.append(
                dict.fromkeys(("name", "id_number", "email", "address"))
                | {"name": INFORMANT_PLACEHOLDER, "phone": data.caller_phone}
            )
    sealed_row = None
    if identities:
        sealed_row = dict(
            case_id=case_id,
            identity=cipher.seal_json(identities, context=sealed_context(case_id)),
            sealed_at=now,
        )
    entry = dict(
        case_id=case_id,
        at=now,
        status=CaseStatus.REGISTERED.value,
        note=f"{office.petition_office_name}登记（{CHANNEL_LABELS[Channel(data.channel)]}）"
        + (f"；{SEALED_BECAUSE[sealed_because]}，检举人信息保密" if sealed_because else ""),
        detail=None,
    )
    received = PetitionReceived(
        case_id=case_id,
        case_number=case_number,
        channel=data.channel.value,
        received_at=received_at,
        receiving_office_code=office.code,
        receiving_office_name=office.petition_office_name,
        anonymous=data.anonymous,
        petitioners=infos,
        persons=persons,
        matter_location_code=data.matter_location_code,
        matter_address=data.matter_address,
        category=data.category,
        title=data.title,
        content=data.content,
        collective=collective,
        # the informant gets the query code at the desk: no receipt goes out, and the code is
        # not told to every unit that reads the topic
        query_code=None if sealed else query_code,
        informant_sealed=sealed,
        repeat_of=data.repeat_of,
    )
    events = [new_event(data=received, source=source, time=now)]
    if collective:
        alert = CollectiveAlert(
            case_id=case_id,
            case_number=case_number,
            persons=persons,
            threshold=collective_threshold,
            receiving_office_code=office.code,
            receiving_office_name=office.petition_office_name,
            matter_location_code=data.matter_location_code,
            summary=(data.title or data.content)[:80],
            raised_at=now,
        )
        events.append(new_event(data=alert, source=source, time=now))
    created = PetitionCreated(
        case_id=case_id,
        case_number=case_number,
        query_code=query_code,
        status=CaseStatus.REGISTERED.value,
        status_label=status_label(CaseStatus.REGISTERED),
        received_at=received_at,
        collective=collective,
        informant_sealed=sealed,
        message=f"已登记，信访件编号 {case_number}，请凭查询码 {query_code} 查询办理进度"
        + ("（检举控告：检举人信息已加密保存，查询码请当面告知检举人）" if sealed else ""),
    )
    key_row = None
    if idempotency_key:
        key_row = dict(
            key=idempotency_key,
            request_hash=request_hash,
            case_id=case_id,
            response=created.model_dump(mode="json"),
            created_at=now,
        )
    return Registration(created, petition, rows, entry, events, now, key_row, sealed_row)


def received_time(data: PetitionCreate, now: datetime) -> datetime:
    """When it was received; a client's clock skew never dates a petition in the future."""
    received_at = data.received_at or now
    return min(received_at, now)


async def insert_registrations(*, session: AsyncSession, registrations: list[Registration]) -> None:
    """Write prepared registrations in the caller's transaction: one INSERT per table for all
    of them, in this order (the unit of work writes a table's rows with one executemany)."""
    async with UnitOfWork(session) as uow:
        for table, rows in [
            (petitions, [r.petition for r in registrations]),
            (petitioners, [p for r in registrations for p in r.petitioners]),
            (sealed_informants, [r.sealed for r in registrations if r.sealed]),
            (history, [r.history for r in registrations]),
        ]:
            for row in rows:
                uow.add(table, row)
        for r in registrations:
            for envelope in r.events:
                uow.emit(outbox, envelope, now=r.at)
        for key_row in [r.idempotency for r in registrations if r.idempotency]:
            uow.add(idempotency_keys, key_row)


async def get_status_by_query_code_or_raise(
    *, session: AsyncSession, query_code: str, today: date
) -> PetitionStatusRead:
    if not is_query_code(query_code.upper()):
        raise PetitionNotFound(query_code)
    row = (
        await session.execute(select(petitions).where(petitions.c.query_code == query_code.upper()))
    ).first()
    if row is None:
        raise PetitionNotFound(query_code)
    entries = (
        await session.execute(
            select(history)
            .where(history.c.case_id == row.case_id)
            .order_by(history.c.at, history.c.id)
        )
    ).all()
    office = org.get_unit(row.receiving_office_code)
    return PetitionStatusRead(
        case_number=row.case_number,
        channel=row.channel,
        channel_label=CHANNEL_LABELS[Channel(row.channel)],
        received_at=row.received_at,
        receiving_office=office.petition_office_name if office else row.receiving_office_code,
        status=row.status,
        status_label=status_label(row.status),
        handling_unit=row.handling_unit_name,
        deadlines=[deadline_view(d, today=today) for d in (row.deadlines or [])],
        next_step=row.next_step,
        history=[
            HistoryEntry(at=e.at, status=e.status, status_label=status_label(e.status), note=e.note)
            for e in entries
        ],
    )


async def _move_status(
    session: AsyncSession,
    *,
    case_id: str,
    status: str,
    at: datetime,
    note: str,
    add_history: bool = True,
    **extra: object,
) -> bool:
    """Record a status change; the current status only moves to a newer one (events of one
    case may arrive from different topics out of order, the history keeps them all)."""
    if add_history:
        await session.execute(
            insert(history).values(case_id=case_id, at=at, status=status, note=note)
        )
    result = await session.execute(
        update(petitions)
        .where(petitions.c.case_id == case_id, petitions.c.status_at <= at)
        .values(status=status, status_at=at, **extra)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_routed(*, session: AsyncSession, event: CaseRouted) -> None:
    exists = (
        await session.execute(
            select(petitions.c.case_id).where(petitions.c.case_id == event.case_id)
        )
    ).first()
    if exists is None:
        return  # a case registered by another level's intake
    # who handles it and the office that supervises it (the staff record's scope)
    await _move_status(
        session,
        case_id=event.case_id,
        status=CaseStatus.ROUTED.value,
        at=event.routed_at,
        note=_routed_note(event),
        handling_unit_name=event.to_unit_name,
        handling_unit_code=event.to_unit_code,
        supervising_code=event.supervising_code or petitions.c.supervising_code,
    )


def _routed_note(event: CaseRouted) -> str:
    note = f"{event.from_unit_name}{event.action}至{event.to_unit_name}"
    if event.final and event.legal_channel:
        note += "（涉法涉诉，依法导入诉讼程序办理）"
    if event.final and event.needs_manual_triage:
        note += "（待人工分办）"
    if event.transfer_due and not event.final:
        note += f"，转交期限{event.transfer_due:%Y年%m月%d日}"
    return note


async def record_linked(*, session: AsyncSession, event: CaseLinked) -> None:
    exists = (
        await session.execute(
            select(petitions.c.case_id).where(petitions.c.case_id == event.case_id)
        )
    ).first()
    if exists is None:
        return
    await _move_status(
        session,
        case_id=event.case_id,
        status=CaseStatus.LINKED.value,
        at=event.linked_at,
        note=f"{event.match}，已并入信访件 {event.linked_case_number} 一并办理（第{event.repeat_count}次反映）",
        handling_unit_name=None,
        # the body holding the case it joined sees this item too (RecordRead's scope)
        handling_unit_code=event.holder_code,
    )


async def record_status_changed(*, session: AsyncSession, event: CaseStatusChanged) -> None:
    exists = (
        await session.execute(
            select(petitions.c.case_id, petitions.c.deadlines).where(
                petitions.c.case_id == event.case_id
            )
        )
    ).first()
    if exists is None:
        return
    announced = [d.model_dump(mode="json") for d in event.deadlines]
    await _move_status(
        session,
        case_id=event.case_id,
        status=event.new_status,
        at=event.changed_at,
        note=event.note or status_label(event.new_status),
        # supervision's first announcement (old_status None) only brings the deadlines: the
        # routing itself is already in the history from case.routed
        add_history=event.old_status is not None,
        deadlines=stamp_met(announced, exists.deadlines, at=event.changed_at),
        next_step=event.next_step,
        **({"handling_unit_name": event.handling_unit_name} if event.handling_unit_name else {}),
    )
