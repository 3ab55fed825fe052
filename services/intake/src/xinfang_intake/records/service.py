"""Reading petition records for staff, scoped to the caller in SQL. Functions take the session
and never commit.

Scope (as supervision's and routing's): a handler sees the records its own department or unit
handles; everyone else a record received, handled or supervised inside their org subtree. A
sealed informant (检举控告) is never read here: their rows hold a placeholder and no contact,
and the search never matches them by name or phone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.status import status_label

from xinfang_intake.petitions.accusation import INFORMANT_PLACEHOLDER
from xinfang_intake.petitions.models import petitioners, petitions, sealed_informants
from xinfang_intake.petitions.schemas import CHANNEL_LABELS, Channel
from xinfang_intake.petitions.validation import mask_id_number
from xinfang_intake.records.schemas import OpenCaseRead, PetitionerRead, RecordRead

CLOSED = ("closed", "final")  # a case no longer open (a repeat of it is a new case)
EXCERPT = 60


def in_scope(scope: Scope) -> ColumnElement[bool]:
    """The SQL condition of the records ``scope`` may read."""
    p = petitions.c
    who = scope.principal
    if who.role is Role.HANDLER:
        return p.handling_unit_code == who.org_code
    units, orgs = sorted(scope.unit_codes), sorted(scope.org_codes)
    return or_(
        p.receiving_office_code.in_(units),
        p.handling_unit_code.in_(orgs),
        p.supervising_code.in_(orgs),
    )


def _sealed(case_id: Any) -> ColumnElement[bool]:
    return exists().where(sealed_informants.c.case_id == case_id)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def record_or_none(*, session: AsyncSession, scope: Scope, case_id: str) -> RecordRead | None:
    """The record, or None when it is missing or outside the caller's scope."""
    row = (
        await session.execute(
            select(petitions, _sealed(petitions.c.case_id).label("sealed")).where(
                petitions.c.case_id == case_id, in_scope(scope)
            )
        )
    ).first()
    if row is None:
        return None
    people: list[PetitionerRead] = []
    if not row.sealed:
        found = await session.execute(
            select(petitioners)
            .where(petitioners.c.case_id == case_id)
            .order_by(petitioners.c.position)
        )
        people = [
            PetitionerRead(
                name=p.name,
                id_number_masked=mask_id_number(p.id_number) if p.id_number else None,
                phone=p.phone,
                address=p.address,
                representative=p.representative,
            )
            for p in found
        ]
    tree = scope.tree
    office = tree.unit(row.receiving_office_code)
    place = tree.unit(row.matter_location_code) if row.matter_location_code else None
    return RecordRead(
        case_id=row.case_id,
        case_number=row.case_number,
        query_code=None if row.sealed else row.query_code,
        channel=row.channel,
        channel_label=CHANNEL_LABELS[Channel(row.channel)],
        persons=row.persons,
        collective=row.collective,
        anonymous=row.anonymous,
        informant_sealed=bool(row.sealed),
        receiving_office_code=row.receiving_office_code,
        receiving_office_name=office.petition_office_name if office else row.receiving_office_code,
        matter_location_code=row.matter_location_code,
        matter_location_name=place.name if place else None,
        matter_address=row.matter_address,
        category=row.category,
        title=row.title,
        content=row.content,
        received_at=row.received_at,
        registered_at=row.registered_at,
        letter_date=row.letter_date,
        caller_phone=row.caller_phone,
        repeat_of=row.repeat_of,
        status=row.status,
        status_label=status_label(row.status),
        handling_unit_code=row.handling_unit_code,
        handling_unit_name=row.handling_unit_name,
        supervising_code=row.supervising_code,
        petitioners=people,
    )


async def search(
    *, session: AsyncSession, scope: Scope, q: str, phone: str | None, limit: int
) -> tuple[list[str], bool]:
    """Case ids (newest received first) whose case number starts with ``q``, whose petitioner is
    named ``q`` (or a name starting with it) or has the phone ``phone`` (``q`` read as a phone
    number, when it is one), whose caller's number is ``phone``, or whose title or content
    contains ``q``; at most ``limit``, and whether there were more."""
    p, pe = petitions.c, petitioners.c
    like = _escape(q)
    person: list[ColumnElement[bool]] = [pe.name.like(f"{like}%", escape="\\")]
    if phone is not None:
        person.append(pe.phone == phone)
    by_person = exists().where(
        pe.case_id == p.case_id,
        pe.name != INFORMANT_PLACEHOLDER,
        or_(*person),
    )
    matches = or_(
        p.case_number.like(f"{like}%", escape="\\"),
        and_(by_person, ~_sealed(p.case_id)),
        p.caller_phone == phone if phone is not None else false(),
        p.title.like(f"%{like}%", escape="\\"),
        p.content.like(f"%{like}%", escape="\\"),
    )
    rows = await session.execute(
        select(p.case_id)
        .where(in_scope(scope), matches)
        .order_by(p.received_at.desc(), p.case_id)
        .limit(limit + 1)
    )
    ids = [r.case_id for r in rows]
    return ids[:limit], len(ids) > limit


async def open_for(
    *, session: AsyncSession, scope: Scope, id_hash: str | None, phone: str | None
) -> list[OpenCaseRead]:
    """The open cases in scope whose petitioner has this ID (by its salted hash) or phone, or
    whose caller called from ``phone``: the registrar's warning before a second registration."""
    p, pe = petitions.c, petitioners.c
    person: list[ColumnElement[bool]] = []
    if id_hash is not None:
        person.append(pe.id_hash == id_hash)
    if phone is not None:
        person.append(pe.phone == phone)
    same: list[ColumnElement[bool]] = [exists().where(pe.case_id == p.case_id, or_(*person))]
    if phone is not None:
        same.append(p.caller_phone == phone)
    rows = await session.execute(
        select(p.case_id, p.case_number, p.received_at, p.status, p.handling_unit_name, p.content)
        .where(in_scope(scope), p.status.not_in(CLOSED), or_(*same), ~_sealed(p.case_id))
        .order_by(p.received_at.desc())
        .limit(50)
    )
    return [
        OpenCaseRead(
            case_id=r.case_id,
            case_number=r.case_number,
            received_at=r.received_at,
            status_label=status_label(r.status),
            handling_unit_name=r.handling_unit_name,
            excerpt=r.content[:EXCERPT],
        )
        for r in rows
    ]
