"""Group commit: registrations that arrive together are written in one transaction.

Under a flood most of a registration's cost was the database round trips of its own
transaction (BEGIN, an INSERT per table, COMMIT) and the connections they held. Here each
request hands its validated petition to the replica's writer and waits; the writer takes
everything waiting, writes it with one INSERT per table and commits, then answers every
request. While one transaction is in flight the next batch gathers, so a lone petition is
written at once and a flood is written in large batches, with no timer.

Guarantees are those of one registration per transaction:
- a request is answered 201 only after the transaction holding its petition committed;
- an Idempotency-Key seen before is answered from the stored response (422 if the body
  differs), a key twice in one batch waits for the next one, and a key committed at the same
  moment by another replica makes the batch be written again one petition at a time;
- a batch that fails because the database is away or slow fails each of its requests
  (nothing is stored; the client may retry);
- a batch that fails for any other reason (a row the database refuses) is written again one
  petition at a time, so only the bad one fails, with :class:`RegistrationRefused` (not
  retryable), and its batch-mates are registered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError, DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from xinfang_shared.classifier import Model
from xinfang_shared.clock import Clock

from xinfang_intake.petitions import service
from xinfang_intake.petitions.numbering import CaseNumberAllocator
from xinfang_intake.petitions.schemas import PetitionCreate, PetitionCreated
from xinfang_intake.petitions.sealing import InformantCipher

log = logging.getLogger(__name__)


class RegistrationRefused(Exception):
    """The database refused this petition's rows for a reason that retrying will not change."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}"[:500])


# SQLSTATE classes of errors caused by what was written (cardinality, data exception such as a
# NUL byte or a value out of range, integrity constraint); anything else the database says
# (connection, resources, statement or lock timeout, shutdown, serialization) is an outage
_ROW_ERROR_CLASSES = frozenset({"21", "22", "23"})


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return str(state) if state else None


def is_outage(exc: BaseException) -> bool:
    """Did the write fail because the database is away, busy or slow (worth retrying later),
    rather than because of what was written?"""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        state = _sqlstate(exc)
        if state is not None:
            return state[:2] not in _ROW_ERROR_CLASSES
        return not isinstance(exc, DataError | IntegrityError)
    return isinstance(exc, DisconnectionError | PoolTimeoutError | TimeoutError | OSError)


@dataclass(frozen=True)
class Outcome:
    """What became of one request: a new petition, or the stored answer to its key."""

    created: PetitionCreated | None = None
    replayed: dict[str, Any] | None = None


@dataclass
class _Request:
    data: PetitionCreate
    key: str | None
    request_hash: str
    done: asyncio.Future[Outcome] = field(repr=False)


class RegistrationWriter:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        numbers: CaseNumberAllocator,
        clock: Clock,
        source: str,
        id_salt: str,
        collective_threshold: int,
        cipher: InformantCipher,
        model: Model,
        on_commit: Callable[[], None],
        max_batch: int = 200,
    ) -> None:
        self._sessions = sessions
        self._numbers = numbers
        self._clock = clock
        self._source = source
        self._salt = id_salt
        self._threshold = collective_threshold
        self._cipher = cipher
        self._model = model  # the classifier that tells an accusation (seal it) before storing
        self._on_commit = on_commit
        self._max_batch = max_batch
        self._waiting: list[_Request] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.written = 0

    async def register(
        self, data: PetitionCreate, *, idempotency_key: str | None, request_hash: str = ""
    ) -> Outcome:
        """Register one petition; returns once it is committed. Raises
        :class:`service.IdempotencyKeyReused`, :class:`RegistrationRefused` (this petition
        cannot be stored), or the error of a database outage."""
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Request(data, idempotency_key, request_hash, done))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="registration-writer")
        return await done

    async def _drain(self) -> None:
        while self._waiting:
            batch: list[_Request] = []
            later: list[_Request] = []
            keys: set[str] = set()
            for r in self._waiting:
                if len(batch) >= self._max_batch or (r.key is not None and r.key in keys):
                    later.append(r)  # a retry racing its twin: answered from the twin's row
                    continue
                batch.append(r)
                if r.key is not None:
                    keys.add(r.key)
            self._waiting = later
            try:
                await self._write(batch)
            except Exception as exc:
                if is_outage(exc):
                    for r in batch:
                        _settle(r, exc)
                elif len(batch) == 1:
                    await self._refused(batch[0], exc)
                else:  # a key committed meanwhile elsewhere, or one bad row: each on its own
                    log.warning("batch of %d refused, writing one by one: %r", len(batch), exc)
                    for r in batch:
                        try:
                            await self._write([r])
                        except Exception as one:
                            await self._refused(r, one)

    async def _refused(self, r: _Request, exc: BaseException) -> None:
        """A petition written on its own failed: a twin's key, a row refused, or an outage."""
        if isinstance(exc, IntegrityError) and r.key is not None:
            await self._answer_from_stored_key(r)
        elif is_outage(exc):
            _settle(r, exc)
        else:
            log.error("registration refused by the database: %r", exc)
            _settle(r, RegistrationRefused(exc))

    async def _write(self, batch: list[_Request]) -> None:
        now = self._clock.now()
        outcomes: list[Outcome | Exception] = []
        async with self._sessions() as session, session.begin():
            stored = await service.stored_responses(
                session=session, keys=[r.key for r in batch if r.key]
            )
            prepared = []
            for r in batch:
                if r.key is not None and r.key in stored:
                    outcomes.append(_replay(r, stored[r.key]))
                    continue
                office = r.data.receiving_office_code
                number = await self._numbers.next(office, service.received_time(r.data, now))
                reg = service.prepare_registration(
                    data=r.data,
                    case_number=number,
                    now=now,
                    source=self._source,
                    id_salt=self._salt,
                    collective_threshold=self._threshold,
                    cipher=self._cipher,
                    model=self._model,
                    idempotency_key=r.key,
                    request_hash=r.request_hash,
                )
                prepared.append(reg)
                outcomes.append(Outcome(created=reg.created))
            await service.insert_registrations(session=session, registrations=prepared)
        self.batches += 1
        self.written += len(prepared)
        if prepared:
            self._on_commit()
        for r, outcome in zip(batch, outcomes, strict=True):
            _settle(r, outcome)

    async def _answer_from_stored_key(self, r: _Request) -> None:
        """The key was committed by a concurrent twin (another replica): answer as it did."""
        try:
            async with self._sessions() as session:
                stored = await service.stored_responses(
                    session=session, keys=[r.key] if r.key else []
                )
            if r.key is None or r.key not in stored:
                raise RegistrationRefused(
                    RuntimeError("integrity error without a stored Idempotency-Key")
                )
            outcome = _replay(r, stored[r.key])
        except Exception as exc:
            outcome = exc
        _settle(r, outcome)


def _replay(r: _Request, stored: tuple[str, dict[str, Any]]) -> Outcome | Exception:
    request_hash, response = stored
    if request_hash != r.request_hash:
        return service.IdempotencyKeyReused(r.key)
    return Outcome(replayed=response)


def _settle(r: _Request, outcome: Outcome | BaseException) -> None:
    """Answer the waiting request (unless it gave up: a cancelled request's future is done)."""
    if r.done.done():
        return
    if isinstance(outcome, BaseException):
        r.done.set_exception(outcome)
    else:
        r.done.set_result(outcome)
