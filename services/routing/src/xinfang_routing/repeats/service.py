"""The repeat index's store: the fingerprints of every item, read into the in-memory index
(:mod:`.matching`) as they are written (by this or another replica)."""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_routing.models import fingerprints
from xinfang_routing.repeats.matching import RepeatIndex


async def refresh_index(*, session: AsyncSession, index: RepeatIndex) -> int:
    """Add fingerprints written since the last refresh (by this or another replica)."""
    index.refreshed_at = time.monotonic()
    rows = (
        await session.execute(
            select(
                fingerprints.c.seq,
                fingerprints.c.case_id,
                fingerprints.c.root_case_id,
                fingerprints.c.identity_keys,
                fingerprints.c.signature,
                fingerprints.c.category,
                fingerprints.c.department,
                fingerprints.c.terms,
                fingerprints.c.topic,
            )
            .where(fingerprints.c.seq > index.last_seq)
            .order_by(fingerprints.c.seq)
        )
    ).all()
    for r in rows:
        index.add(
            case_id=r.case_id,
            root_case_id=r.root_case_id,
            keys=list(r.identity_keys),
            sig=np.frombuffer(r.signature, dtype=np.uint32),
            matter=(r.category, r.department) if r.category and r.department else None,
            profile=index.matcher.decode(r.terms, r.topic),
        )
        index.last_seq = r.seq
    return len(rows)
