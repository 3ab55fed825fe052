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
- any other failure of a batch is the failure of each of its requests (nothing is stored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from xinfang_shared.clock import Clock

from xinfang_intake.petitions import service
from xinfang_intake.petitions.numbering import CaseNumberAllocator
from xinfang_intake.petitions.schemas import PetitionCreate, PetitionCreated
from xinfang_intake.petitions.sealing import InformantCipher

log = logging.getLogger(__name__)


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
        :class:`service.IdempotencyKeyReused`, or the database's error."""
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
            except IntegrityError:
                if len(batch) == 1:
                    await self._answer_from_stored_key(batch[0])
                else:  # a key committed meanwhile elsewhere: each on its own
                    for r in batch:
                        try:
                            await self._write([r])
                        except IntegrityError:
                            await self._answer_from_stored_key(r)
                        except Exception as exc:
                            _settle(r, exc)
            except Exception as exc:
                for r in batch:
                    _settle(r, exc)

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
                raise RuntimeError("integrity error without a stored Idempotency-Key")
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
