"""The login throttle: how many password checks a guesser gets.

Every login attempt is charged *before* its password is checked, to three counters kept in the
database (so every replica counts the same attempts): the username from this client address,
the username from anywhere, and the address whatever username it tries (a scan of many
usernames). A counter lets ``free`` attempts through; from then on each charged attempt makes
the next one wait a delay that doubles, up to ``max_delay``: a wait, never a lock, so the real
owner is not kept out for good, and the owner coming from another address is not held up by a
guesser's address at all. A successful login clears the username's counters (and gives the
address back the attempt it used); an administrator can clear them at once (``unlock``). When a
counter starts to delay, a warning is logged (``login throttled``): the alert for monitoring.

Counters change by compare-and-set on a version column: a charge that raced another one is
retried with fresh values, so a burst of concurrent attempts cannot slip more than ``free``
checks through (SQLite and PostgreSQL alike). The rules are pure (:func:`plan`); the functions
that touch the database never commit: the caller does, between tries.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from sqlalchemy import (
    Column,
    ColumnElement,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    delete,
    or_,
    select,
)
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_shared.auth.models import USERNAME_MAX

log = logging.getLogger(__name__)

Kind = Literal["pair", "user", "address"]
ADDRESS_MAX = 64

login_throttle = Table(
    "login_throttle",
    MetaData(),  # the canonical definition; services get copies through login_throttle_table()
    Column("kind", String(8), primary_key=True),
    Column("subject", String(USERNAME_MAX + ADDRESS_MAX + 1), primary_key=True),
    Column("username", String(USERNAME_MAX), nullable=False, index=True),  # '' for an address
    Column("attempts", Integer, nullable=False),
    Column("delay_s", Float, nullable=False),
    Column("next_at", Float, nullable=False),  # epoch seconds (wall clock)
    Column("last_at", Float, nullable=False, index=True),
    Column("version", Integer, nullable=False),
)


def login_throttle_table(metadata: MetaData) -> Table:
    """Add the ``login_throttle`` table to a service's metadata and return it."""
    found = metadata.tables.get(login_throttle.name)
    return found if found is not None else login_throttle.to_metadata(metadata)


@dataclass(frozen=True)
class Rule:
    free: int  # attempts without delay (the last of them starts the delay)
    base_delay: timedelta
    max_delay: timedelta


@dataclass(frozen=True)
class Policy:
    pair: Rule  # one username from one address
    user: Rule  # one username from anywhere (a guesser spread over many addresses)
    address: Rule  # one address, any username (a scan of usernames)
    forget_after: timedelta = timedelta(hours=1)  # a counter idle this long starts again

    def rule(self, kind: Kind) -> Rule:
        return {"pair": self.pair, "user": self.user, "address": self.address}[kind]


DEFAULT_POLICY = Policy(
    pair=Rule(free=5, base_delay=timedelta(seconds=15), max_delay=timedelta(minutes=15)),
    # short: it holds up the owner too, wherever they are
    user=Rule(free=10, base_delay=timedelta(seconds=5), max_delay=timedelta(minutes=1)),
    address=Rule(free=30, base_delay=timedelta(seconds=15), max_delay=timedelta(minutes=15)),
)


@dataclass(frozen=True)
class Key:
    kind: Kind
    subject: str
    username: str = ""


def keys_for(username: str, address: str) -> list[Key]:
    """The counters one attempt is charged to, in a fixed order (the same for every attempt)."""
    user = username.strip().lower()[:USERNAME_MAX]
    addr = address[:ADDRESS_MAX]
    return [
        Key("address", addr),
        Key("pair", f"{user} {addr}", user),
        Key("user", user, user),
    ]


@dataclass(frozen=True)
class Counter:
    attempts: int = 0
    delay_s: float = 0.0
    next_at: float = 0.0
    last_at: float = 0.0
    version: int | None = None  # None: no row yet


def next_delay(rule: Rule, *, attempts: int, previous: float) -> float:
    """The wait before the attempt after the ``attempts``-th: none while free, then the base
    delay, doubling with every further attempt up to the rule's maximum."""
    if attempts < rule.free:
        return 0.0
    base = rule.base_delay.total_seconds()
    return min(rule.max_delay.total_seconds(), max(base, previous * 2))


def charged(rule: Rule, counter: Counter, *, now: float, forget_after: timedelta) -> Counter:
    """The counter after one more attempt at ``now``."""
    if now - counter.last_at > forget_after.total_seconds():
        counter = Counter(version=counter.version)
    attempts = counter.attempts + 1
    delay = next_delay(rule, attempts=attempts, previous=counter.delay_s)
    return Counter(attempts, delay, now + delay, now, counter.version)


@dataclass(frozen=True)
class Plan:
    wait_s: float  # > 0: refused, retry after this long; nothing is charged
    updates: dict[Key, tuple[Counter, Counter]] = field(default_factory=dict)  # old, new

    def started_delays(self) -> list[tuple[Key, Counter]]:
        """The counters this attempt made start to delay (what the alert names)."""
        return [
            (k, new) for k, (old, new) in self.updates.items() if new.delay_s and not old.delay_s
        ]


def plan(policy: Policy, counters: dict[Key, Counter], *, now: float) -> Plan:
    """Refuse (a wait) if any counter still delays, else charge every counter."""
    wait = max((c.next_at - now for c in counters.values()), default=0.0)
    if wait > 0:
        return Plan(wait_s=wait)
    return Plan(
        wait_s=0.0,
        updates={
            key: (c, charged(policy.rule(key.kind), c, now=now, forget_after=policy.forget_after))
            for key, c in counters.items()
        },
    )


def _match(key: Key) -> ColumnElement[bool]:
    return and_(login_throttle.c.kind == key.kind, login_throttle.c.subject == key.subject)


async def read_counters(*, session: AsyncSession, keys: list[Key]) -> dict[Key, Counter]:
    rows = (
        await session.execute(select(login_throttle).where(or_(*(_match(k) for k in keys))))
    ).all()
    found = {
        (r.kind, r.subject): Counter(r.attempts, r.delay_s, r.next_at, r.last_at, r.version)
        for r in rows
    }
    return {k: found.get((k.kind, k.subject), Counter()) for k in keys}


async def apply(*, session: AsyncSession, updates: dict[Key, tuple[Counter, Counter]]) -> bool:
    """Write the charged counters, each only if unchanged since it was read; False (the caller
    rolls back and tries again) when another attempt got there first."""
    for key, (old, new) in updates.items():
        values = {
            "attempts": new.attempts,
            "delay_s": new.delay_s,
            "next_at": new.next_at,
            "last_at": new.last_at,
        }
        if old.version is None:
            try:
                await session.execute(
                    login_throttle.insert().values(
                        kind=key.kind,
                        subject=key.subject,
                        username=key.username,
                        version=1,
                        **values,
                    )
                )
            except IntegrityError:  # inserted meanwhile by a concurrent attempt
                return False
            continue
        result = await session.execute(
            sql_update(login_throttle)
            .where(_match(key), login_throttle.c.version == old.version)
            .values(version=old.version + 1, **values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
    return True


def alert(p: Plan, *, username: str, address: str) -> None:
    """Log a warning for each counter this attempt made start to delay."""
    for key, new in p.started_delays():
        log.warning(
            "login throttled: %s counter of %r from %s delays the next attempt %.0f s",
            key.kind,
            username,
            address,
            new.delay_s,
            extra={
                "throttle_kind": key.kind,
                "username": username,
                "client_address": address,
                "attempts": new.attempts,
                "delay_s": new.delay_s,
            },
        )


async def succeeded(
    *,
    session: AsyncSession,
    username: str,
    address: str,
    now: float,
    policy: Policy = DEFAULT_POLICY,
) -> None:
    """A login succeeded: forget the username's counters, give the address its attempt back,
    and drop every counter idle for longer than the policy remembers (a scan of made-up
    usernames leaves one per name)."""
    address_key, pair_key, user_key = keys_for(username, address)
    await session.execute(
        delete(login_throttle).where(
            or_(
                _match(pair_key),
                _match(user_key),
                login_throttle.c.last_at < now - policy.forget_after.total_seconds(),
            )
        )
    )
    await session.execute(
        sql_update(login_throttle)
        .where(_match(address_key), login_throttle.c.attempts > 0)
        .values(attempts=login_throttle.c.attempts - 1, version=login_throttle.c.version + 1)
    )


async def unlock(*, session: AsyncSession, username: str) -> int:
    """Clear every counter of ``username`` (from every address); how many there were."""
    result = await session.execute(
        delete(login_throttle).where(
            login_throttle.c.username == username.strip().lower()[:USERNAME_MAX]
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
