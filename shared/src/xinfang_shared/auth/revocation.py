"""Revoking tokens before they expire: an account disabled, or its password or role changed.

Tokens are checked by every service on its own (no call to intake per request), so a revocation
travels as an event: intake writes ``auth.tokens_revoked`` through its outbox in the transaction
that changes the account; every service (every level) records it in its own database, in the
same transaction as the event's processed mark, and keeps the table in memory. A token of that
account issued before the revocation is refused from then on (401, 请重新登录); a new login
gets a new token that passes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_shared.auth.models import USERNAME_MAX
from xinfang_shared.auth.security import Principal
from xinfang_shared.db import AwareDateTime, UnitOfWork
from xinfang_shared.events import TokensRevoked, new_event
from xinfang_shared.timeutil import ensure_aware

revocations = Table(
    "token_revocations",
    MetaData(),  # the canonical definition; services get copies through revocations_table()
    Column("username", String(USERNAME_MAX), primary_key=True),
    Column("revoked_at", AwareDateTime(), nullable=False),
    Column("reason", String(100), nullable=False),
)


def revocations_table(metadata: MetaData) -> Table:
    """Add the ``token_revocations`` table to a service's metadata (once) and return it."""
    found = metadata.tables.get(revocations.name)
    return found if found is not None else revocations.to_metadata(metadata)


class Revocations:
    """The revocations this process knows, by username (epoch seconds)."""

    def __init__(self) -> None:
        self._at: dict[str, float] = {}

    def note(self, username: str, at: datetime) -> None:
        ts = ensure_aware(at).timestamp()
        self._at[username] = max(ts, self._at.get(username, ts))

    def revoked(self, principal: Principal) -> bool:
        """The token was issued before its account's latest revocation (both on the wall
        clock, to the millisecond: a login right after a revocation gets a token that passes)."""
        at = self._at.get(principal.username)
        return at is not None and principal.kind == "user" and principal.issued_at < at

    async def load(self, session: AsyncSession) -> int:
        rows = (await session.execute(select(revocations))).all()
        for row in rows:
            self.note(row.username, row.revoked_at)
        return len(rows)


async def store_revocation(
    *, session: AsyncSession, username: str, at: datetime, reason: str
) -> None:
    """Record a revocation (idempotent; the latest wins)."""
    found = (
        await session.execute(
            select(revocations.c.revoked_at).where(revocations.c.username == username)
        )
    ).first()
    if found is None:
        await session.execute(
            revocations.insert().values(username=username, revoked_at=at, reason=reason[:100])
        )
    elif ensure_aware(found.revoked_at) < ensure_aware(at):
        await session.execute(
            update(revocations)
            .where(revocations.c.username == username)
            .values(revoked_at=at, reason=reason[:100])
        )


async def revoke_tokens(
    *,
    session: AsyncSession,
    outbox: Table,
    username: str,
    reason: str,
    by: str,
    source: str,
    now: datetime,
    cutoff: datetime,
) -> TokensRevoked:
    """Revoke every token of ``username`` issued before ``cutoff`` (the wall clock: token time
    is not business time): stored here and announced to every service, in the caller's
    transaction (the caller commits). ``now`` (business time) dates the event."""
    await store_revocation(session=session, username=username, at=cutoff, reason=reason)
    event = TokensRevoked(username=username, revoked_at=cutoff, reason=reason, by=by)
    async with UnitOfWork(session) as uow:
        uow.emit(outbox, new_event(data=event, source=source, time=now), now=now)
    return event
