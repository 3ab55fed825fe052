"""The holiday calendar (放假安排通知): what is in force, and loading a year's notice (an
administrator of the deployment's top unit only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from xinfang_shared.auth.deps import AuthHTTPError, CurrentScope, get_principal
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import actor_name
from xinfang_shared.db import UnitOfWork
from xinfang_shared.http import error_body, error_response
from xinfang_shared.runtime import SessionDep
from xinfang_shared.timeutil import local_date

from xinfang_supervision.calendar import service
from xinfang_supervision.calendar.schemas import CalendarRead, NoticeLoadedRead, NoticeRequest
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.deps import SupervisionDep

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)
CALENDAR_ADMIN_ONLY = error_body(
    "forbidden",
    "只有本级（部署顶层单位）的管理员可以载入放假安排通知",
    "only an administrator of this deployment's top unit may load holiday notices",
)


def require_calendar_admin(scope: Scope, sc: SupervisionContext) -> None:
    if scope.principal.role is not Role.ADMIN or scope.unit_code != sc.deployment.scope:
        raise AuthHTTPError(403, CALENDAR_ADMIN_ONLY)


@router.get(
    "/admin/holiday-notices",
    summary="放假安排通知与日历来源 / holiday notices loaded, each year's calendar source",
    response_model=CalendarRead,
)
async def holiday_calendar(
    sup: SupervisionDep, session: SessionDep, scope: CurrentScope
) -> CalendarRead:
    sc = sup.context
    require_calendar_admin(scope, sc)
    today = local_date(sup.runtime.clock.now())
    return await service.calendar_view(session=session, calendar=sc.calendar, today=today)


@router.put(
    "/admin/holiday-notices/{year}",
    summary="载入某年的放假安排通知 / load a year's holiday notice (days off, make-up workdays)",
    response_model=NoticeLoadedRead,
)
async def load_holiday_notice(
    year: Annotated[int, Path(ge=service.MIN_YEAR, le=service.MAX_YEAR)],
    body: NoticeRequest,
    sup: SupervisionDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    sc = sup.context
    require_calendar_admin(scope, sc)
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            result = await service.load_notice(
                uow=uow,
                sc=sc,
                year=year,
                req=body,
                actor=actor_name(scope.principal),
                now=sup.runtime.clock.now(),
            )
            await uow.flush()
    except service.NoticeInvalid as exc:
        return error_response(
            422,
            "invalid_notice",
            "；".join(zh for zh, _ in exc.problems),
            "; ".join(en for _, en in exc.problems),
            problems=[{"zh": zh, "en": en} for zh, en in exc.problems],
        )
    async with session.begin():
        sc.calendar = await service.calendar_from_db(session=session)
    sup.after_commit()
    return result
