from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared.db import add_to_outbox
from xinfang_shared.events import CaseRouted, PetitionReceived, new_event

from xinfang_routing.domain import decide
from xinfang_routing.models import hops, outbox


async def route_petition(
    *, session: AsyncSession, petition: PetitionReceived, now: datetime, source: str
) -> CaseRouted:
    decision = decide(petition)
    routed = CaseRouted(
        case_id=petition.case_id,
        case_number=petition.case_number,
        hop=1,
        action=decision.action,  # type: ignore[arg-type]
        from_unit_code=petition.receiving_office_code,
        from_unit_name=petition.receiving_office_name,
        to_unit_code=decision.to_unit_code,
        to_unit_name=decision.to_unit_name,
        reason=decision.reason,
        routed_at=now,
        received_at=petition.received_at,
        needs_manual_triage=decision.needs_manual_triage,
    )
    await session.execute(
        insert(hops).values(
            case_id=routed.case_id,
            hop=routed.hop,
            case_number=routed.case_number,
            action=routed.action,
            from_unit_code=routed.from_unit_code,
            from_unit_name=routed.from_unit_name,
            to_unit_code=routed.to_unit_code,
            to_unit_name=routed.to_unit_name,
            reason=routed.reason,
            needs_manual_triage=routed.needs_manual_triage,
            received_at=routed.received_at,
            routed_at=routed.routed_at,
        )
    )
    await add_to_outbox(
        session,
        outbox,
        new_event(data=routed, source=source, time=now),
        topic=routed.TOPIC,
        now=now,
    )
    return routed


async def list_hops(*, session: AsyncSession, case_id: str) -> list[dict[str, object]]:
    rows = await session.execute(select(hops).where(hops.c.case_id == case_id).order_by(hops.c.hop))
    return [dict(r._mapping) for r in rows]
