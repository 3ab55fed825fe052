"""Alerts: emerging collective incidents (群体性苗头), scoped like the case lists."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from xinfang_shared.auth.deps import CurrentScope, get_principal
from xinfang_shared.auth.models import Role
from xinfang_shared.runtime import SessionDep

from xinfang_supervision import labels
from xinfang_supervision.alerts.emerging import list_alerts
from xinfang_supervision.alerts.schemas import EmergingAlertRead
from xinfang_supervision.cases import service as cases

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)


@router.get(
    "/alerts/emerging",
    summary="群体性苗头预警 / emerging collective incidents",
    response_model=list[EmergingAlertRead],
)
async def emerging_alerts(
    scope: CurrentScope, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[EmergingAlertRead]:
    """Alerts about places in the caller's subtree; a handler sees those with a case its own
    unit handles (scoped like its case list)."""
    categories = await labels.category_names(session)
    alerts = [
        EmergingAlertRead.model_validate(
            {**a, "category_label": categories.get(a["category"], a["category"])}
        )
        for a in await list_alerts(session=session, limit=limit)
    ]
    if scope.principal.role is not Role.HANDLER:
        return [a for a in alerts if scope.covers(a.place_code)]
    members = {m.case_id for a in alerts for m in a.members}
    units = await cases.units_of_cases(session=session, case_ids=members)
    return [a for a in alerts if any(scope.may_handle(units.get(m.case_id, "")) for m in a.members)]
