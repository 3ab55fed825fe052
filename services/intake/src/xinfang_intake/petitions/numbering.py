"""Case numbers: ``<receiving office code>-<year>-<sequence>``, e.g. ``339922-2026-000042``.

Unique across replicas without a lock per request: each replica reserves a block of sequence
numbers in one short transaction (hi/lo) and hands them out from memory. A replica that stops
leaves a gap in the sequence; numbers are never reused.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine
from xinfang_shared.timeutil import local_date

from xinfang_intake.petitions.models import case_number_blocks


def format_case_number(office_code: str, year: int, seq: int) -> str:
    return f"{office_code}-{year}-{seq:06d}"


class CaseNumberAllocator:
    def __init__(self, engine: AsyncEngine, *, block_size: int = 50) -> None:
        self._engine = engine
        self._block = block_size
        self._ranges: dict[tuple[str, int], tuple[int, int]] = {}
        self._lock = asyncio.Lock()

    async def next(self, office_code: str, at: datetime) -> str:
        year = local_date(at).year
        key = (office_code, year)
        async with self._lock:
            start, end = self._ranges.get(key, (0, 0))
            if start >= end:
                start, end = await self._reserve(office_code, year)
            self._ranges[key] = (start + 1, end)
        return format_case_number(office_code, year, start)

    async def _reserve(self, office_code: str, year: int) -> tuple[int, int]:
        n = self._block
        t = case_number_blocks
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t).values(office_code=office_code, year=year, next_value=1 + n)
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.office_code, t.c.year],
            set_={"next_value": t.c.next_value + n},
        ).returning(t.c.next_value)
        async with self._engine.begin() as conn:
            end = int((await conn.execute(stmt)).scalar_one())
        return end - n, end
