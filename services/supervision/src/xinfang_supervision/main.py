from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from types import SimpleNamespace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError
from xinfang_shared import org
from xinfang_shared.auth.deps import (
    AuthHTTPError,
    CurrentScope,
    get_principal,
    install_auth_errors,
    not_found_outside_scope,
    require_roles,
)
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.auth.security import actor_name
from xinfang_shared.clock import ManualClock
from xinfang_shared.db import UnitOfWork
from xinfang_shared.http import error_body, error_response
from xinfang_shared.runtime import RuntimeDep, ServiceRuntime, SessionDep, health_router
from xinfang_shared.text import MultiLine, SingleLine
from xinfang_shared.timeutil import local_date
from xinfang_shared.web import install_platform

from xinfang_supervision import (
    consumers,
    holiday_notices,
    labels,
    models,
    permissions,
    service,
)
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.emerging import EmergingConfig, EmergingDetector
from xinfang_supervision.emerging import list_alerts as list_emerging
from xinfang_supervision.lifecycle import Action, State
from xinfang_supervision.profiles import default_profiles
from xinfang_supervision.sweeper import Sweeper

# Every call names its caller (a person's or a service's token); what a caller sees is limited
# to its org subtree, and a case outside it is answered exactly as a missing one.
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)
CASE_NOT_FOUND = error_body("not_found", "案件不存在", "no such case")
# A step the case's state, its level or the law does not allow now (documented for clients)
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "案件当前状态、所属层级或法定期限不允许此操作 / not allowed now"}
}


def visible(scope: Scope, case: Any) -> bool:
    """A handler sees the cases its own unit handles; everyone else the cases handled or
    supervised inside their subtree."""
    if scope.principal.role is Role.HANDLER:
        return scope.may_handle(case.unit_code)
    return scope.covers(case.unit_code) or bool(
        case.supervising_code and scope.covers(case.supervising_code)
    )


# Case and order ids are UUIDs (or, from other deployments, short codes): anything else (NUL,
# control characters, a 300-character string) cannot name one and is answered as missing.
ID_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,64}")


def well_formed(identifier: str) -> bool:
    return ID_PATTERN.fullmatch(identifier) is not None


async def case_in_scope_or_404(*, session: Any, case_id: str, scope: Scope) -> Any:
    if not well_formed(case_id):
        not_found_outside_scope(CASE_NOT_FOUND)
    try:
        case = await service.get_case_or_raise(session=session, case_id=case_id)
    except service.CaseNotFound:
        not_found_outside_scope(CASE_NOT_FOUND)
    if not visible(scope, case):
        not_found_outside_scope(CASE_NOT_FOUND)
    await session.rollback()  # the check's read; a step runs in a transaction of its own
    return case


class ActionRequest(BaseModel):
    """One step of the lifecycle. Which fields are required depends on the action. The approver
    of an extension is the calling leader's account (from the token), never a field."""

    model_config = ConfigDict(extra="forbid")
    actor: Annotated[SingleLine, Field(max_length=60)] | None = Field(
        default=None, description="经办人（仅服务账号代办时使用；默认为登录用户）"
    )
    reason: Annotated[MultiLine, Field(max_length=2000)] | None = Field(
        default=None, description="理由（不予受理、延期）"
    )
    days: int | None = Field(default=None, ge=1, le=3650, strict=True, description="延长天数")
    outcome: Annotated[SingleLine, Field(max_length=200)] | None = Field(
        default=None, description="处理意见：予以支持 / 作出解释说明 / 不予支持"
    )
    facts: Annotated[MultiLine, Field(max_length=5000)] | None = Field(
        default=None, description="查明的事实"
    )
    reasons: Annotated[MultiLine, Field(max_length=5000)] | None = Field(
        default=None, description="理由"
    )
    legal_basis: Annotated[MultiLine, Field(max_length=2000)] | None = Field(
        default=None, description="法律依据"
    )
    text: Annotated[MultiLine, Field(max_length=10000)] | None = None


REVIEW_STEPS = {"request_review", "answer_review"}
REREVIEW_STEPS = {"request_rereview", "answer_rereview", "hearing"}


def step_body(tree: org.OrgTree, case: Any, step: str) -> str:
    """The body a step belongs to: the reviewing office for review steps (the office above the
    handling body; for a re-review the one above that), else the handling body."""
    if step in REVIEW_STEPS | REREVIEW_STEPS:
        reviewer = service.office_above(tree, case.unit_code) or case.unit_code
        if step in REREVIEW_STEPS:
            return service.office_above(tree, reviewer) or reviewer
        return str(reviewer)
    return str(case.unit_code)


def may_take(request: Request, scope: Scope, case: Any, step: str) -> None:
    """403 (with who may) unless the caller may take ``step`` on ``case``."""
    tree = request.app.state.supervision.tree
    body = step_body(tree, case, step)
    try:
        permissions.check(
            step, scope=scope, tree=tree, body=body, body_name=service.display_name(tree, body)
        )
    except permissions.Forbidden as exc:
        raise AuthHTTPError(403, error_body("forbidden", exc.zh, exc.en)) from None


async def _do(request: Request, rt: ServiceRuntime, session: Any, fn: Any, **kwargs: Any) -> Any:
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            result = await fn(uow=uow, now=rt.clock.now(), **kwargs)
            await uow.flush()
    except service.CaseNotFound:
        return error_response(404, "not_found", "案件不存在", "no such case")
    except service.Refused as exc:
        return error_response(exc.status, "refused", exc.zh, exc.en, **exc.extra)
    rt.relay.wake()
    request.app.state.sweeper.kick()
    return result


@router.get("/cases", summary="本级可见的案件 / the cases in the caller's scope")
async def list_cases(
    scope: CurrentScope,
    session: SessionDep,
    status: Annotated[State | None, Query(description="案件状态")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    rows = await service.list_cases(session=session, status=status)
    categories = await labels.category_names(session)
    return [labels.label_case(dict(r._mapping), categories) for r in rows if visible(scope, r)][
        :limit
    ]


@router.get("/cases/{case_id}", summary="案件办理情况 / case state, deadlines, history, orders")
async def get_case(case_id: str, scope: CurrentScope, session: SessionDep) -> Any:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    return await service.case_view(session=session, case_id=case_id)


@router.get("/cases/{case_id}/deadlines", summary="案件期限 / deadlines of a case")
async def case_deadlines(
    case_id: str, scope: CurrentScope, session: SessionDep
) -> list[dict[str, Any]]:
    await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    return await service.list_deadlines(session=session, case_id=case_id)


@router.post(
    "/cases/{case_id}/actions/{action}",
    summary="办理环节 / a lifecycle step (accept, decline, extend, reply, close, request_review, answer_review, request_rereview, answer_rereview)",
    responses=CONFLICT,
)
async def act(
    case_id: str,
    action: Action,
    body: ActionRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(request, scope, case, action.value)
    body.actor = actor_name(scope.principal, body.actor)
    return await _do(
        request,
        rt,
        session,
        service.transition,
        sc=request.app.state.supervision,
        case_id=case_id,
        action=action,
        req=body.model_dump(exclude_none=True),
    )


class ExtensionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Annotated[SingleLine, Field(max_length=60)] | None = None
    days: int = Field(ge=1, le=3650, strict=True, description="申请延长的天数")
    reason: Annotated[MultiLine, Field(min_length=2, max_length=2000)] = Field(
        description="延期理由"
    )


@router.post(
    "/cases/{case_id}/extension-request",
    summary="申请延期（由本机关负责人以 extend 批准）/ ask a leader of the body for an extension",
    responses=CONFLICT,
)
async def extension_request(
    case_id: str,
    body: ExtensionRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(request, scope, case, "request_extension")
    return await _do(
        request,
        rt,
        session,
        service.request_extension,
        sc=request.app.state.supervision,
        case_id=case_id,
        days=body.days,
        reason=body.reason,
        actor=actor_name(scope.principal, body.actor),
    )


class HearingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Annotated[SingleLine, Field(max_length=60)] | None = None
    days: int = Field(ge=1, le=90, strict=True, description="听证天数")


@router.post(
    "/cases/{case_id}/hearing",
    summary="复核听证（不计入复核期限）/ a re-review hearing",
    responses=CONFLICT,
)
async def hearing(
    case_id: str,
    body: HearingRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(request, scope, case, "hearing")
    body.actor = actor_name(scope.principal, body.actor)
    return await _do(
        request,
        rt,
        session,
        service.add_hearing_days,
        sc=request.app.state.supervision,
        case_id=case_id,
        days=body.days,
        actor=body.actor,
    )


class LeaderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Annotated[SingleLine, Field(max_length=60)] | None = None
    leader: Annotated[SingleLine, Field(min_length=1, max_length=60)] = Field(
        description="包案领导姓名"
    )


@router.post(
    "/cases/{case_id}/leader",
    summary="确定包案领导 / name the leader in charge",
    responses=CONFLICT,
)
async def leader(
    case_id: str,
    body: LeaderRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    case = await case_in_scope_or_404(session=session, case_id=case_id, scope=scope)
    may_take(request, scope, case, "leader")
    body.actor = actor_name(scope.principal, body.actor)
    return await _do(
        request,
        rt,
        session,
        service.name_leader,
        sc=request.app.state.supervision,
        case_id=case_id,
        leader=body.leader,
        actor=body.actor,
    )


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor: Annotated[SingleLine, Field(max_length=60)] | None = None
    text: Annotated[MultiLine, Field(min_length=2, max_length=10000)] = Field(
        description="书面反馈"
    )


@router.post(
    "/orders/{order_id}/feedback",
    summary="督办反馈 / written feedback on a 督办 order",
    responses=CONFLICT,
)
async def feedback(
    order_id: str,
    body: FeedbackRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    known = well_formed(order_id)
    case_id = known and await service.case_of_order_or_none(session=session, order_id=order_id)
    if not case_id:
        not_found_outside_scope(
            error_body("not_found", "督办单不存在", "no such supervision order")
        )
    case = await case_in_scope_or_404(session=session, case_id=str(case_id), scope=scope)
    issued_to = await service.order_recipient(session=session, order_id=order_id)
    await session.rollback()  # the read; the feedback runs in a transaction of its own
    may_take(
        request, scope, SimpleNamespace(unit_code=issued_to or case.unit_code), "order_feedback"
    )
    body.actor = actor_name(scope.principal, body.actor)
    return await _do(
        request,
        rt,
        session,
        service.order_feedback,
        sc=request.app.state.supervision,
        order_id=order_id,
        text=body.text,
        actor=body.actor,
    )


@router.get("/alerts/emerging", summary="群体性苗头预警 / emerging collective incidents")
async def emerging_alerts(
    scope: CurrentScope, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Alerts about places in the caller's subtree; a handler sees those with a case its own
    unit handles (scoped like its case list)."""
    categories = await labels.category_names(session)
    alerts = [
        {**a, "category_label": categories.get(a["category"], a["category"])}
        for a in await list_emerging(session=session, limit=limit)
    ]
    if scope.principal.role is not Role.HANDLER:
        return [a for a in alerts if scope.covers(a["place_code"])]
    members = {m["case_id"] for a in alerts for m in a["members"]}
    units = await service.units_of_cases(session=session, case_ids=members)
    return [
        a
        for a in alerts
        if any(scope.may_handle(units.get(m["case_id"], "")) for m in a["members"])
    ]


def _iso_date_only(value: object) -> object:
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError(
            "date_format",
            "date must be written YYYY-MM-DD",
            {"zh": "日期应写作 YYYY-MM-DD，例如 2026-12-01"},
        )
    return value


@router.get("/reports/overdue", summary="超期通报 / overdue cases per unit (weekly 通报)")
async def overdue(
    rt: RuntimeDep,
    scope: CurrentScope,
    session: SessionDep,
    as_of: Annotated[
        date | None,
        # a calendar date as written (YYYY-MM-DD), never a number read as seconds since 1970
        BeforeValidator(_iso_date_only),
        Query(description="通报日期 YYYY-MM-DD（默认今天）/ the report's date"),
    ] = None,
) -> dict[str, Any]:
    today = as_of or local_date(rt.clock.now())
    year, week, _ = today.isocalendar()
    units = [
        u
        for u in await service.overdue_report(session=session, today=today)
        if scope.may_handle(u["unit_code"])  # a handler: its own unit's, like its case list
    ]
    return {
        "title": f"{year}年第{week}周信访事项超期情况通报",
        "as_of": today.isoformat(),
        "units": units,
        "total_overdue": sum(len(u["overdue"]) for u in units),
    }


@router.get("/backlog", summary="积案 / backlog cases")
async def backlog(scope: CurrentScope, session: SessionDep) -> list[dict[str, Any]]:
    cases = await service.backlog_cases(session=session)
    categories = await labels.category_names(session)
    return [labels.label_case(c, categories) for c in cases if visible(scope, SimpleNamespace(**c))]


# --- the holiday calendar (放假安排通知) -------------------------------------------------

CALENDAR_ADMIN_ONLY = error_body(
    "forbidden",
    "只有本级（部署顶层单位）的管理员可以载入放假安排通知",
    "only an administrator of this deployment's top unit may load holiday notices",
)


def require_calendar_admin(scope: Scope, sc: service.SupervisionContext) -> None:
    if scope.principal.role is not Role.ADMIN or scope.unit_code != sc.deployment.scope:
        raise AuthHTTPError(403, CALENDAR_ADMIN_ONLY)


@router.get(
    "/admin/holiday-notices",
    summary="放假安排通知与日历来源 / holiday notices loaded, each year's calendar source",
)
async def holiday_calendar(
    request: Request, rt: RuntimeDep, session: SessionDep, scope: CurrentScope
) -> dict[str, Any]:
    sc: service.SupervisionContext = request.app.state.supervision
    require_calendar_admin(scope, sc)
    today = local_date(rt.clock.now())
    years = sorted({*sc.calendar.notices, *holiday_notices.years_ahead(today)})
    rows = {y: await holiday_notices.newest_row(session=session, year=y) for y in years}
    return {
        "years": [holiday_notices.year_view(sc.calendar, y, rows[y]) for y in years],
        "warnings": holiday_notices.calendar_warnings(sc.calendar, today),
    }


@router.put(
    "/admin/holiday-notices/{year}",
    summary="载入某年的放假安排通知 / load a year's holiday notice (days off, make-up workdays)",
)
async def load_holiday_notice(
    year: Annotated[int, Path(ge=holiday_notices.MIN_YEAR, le=holiday_notices.MAX_YEAR)],
    body: holiday_notices.NoticeRequest,
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    scope: CurrentScope,
) -> Any:
    sc: service.SupervisionContext = request.app.state.supervision
    require_calendar_admin(scope, sc)
    try:
        async with session.begin():
            uow = UnitOfWork(session)
            result = await holiday_notices.load_notice(
                uow=uow,
                sc=sc,
                year=year,
                req=body,
                actor=actor_name(scope.principal),
                now=rt.clock.now(),
            )
            await uow.flush()
    except holiday_notices.NoticeInvalid as exc:
        return error_response(
            422,
            "invalid_notice",
            "；".join(zh for zh, _ in exc.problems),
            "; ".join(en for _, en in exc.problems),
            problems=[{"zh": zh, "en": en} for zh, en in exc.problems],
        )
    async with session.begin():
        sc.calendar = await holiday_notices.calendar_from_db(session=session)
    rt.relay.wake()
    request.app.state.sweeper.kick()
    return result


@router.post(
    "/sweep",
    summary="立即检查到期事项 / run a deadline sweep now",
    dependencies=[Depends(require_roles(Role.SERVICE, Role.ADMIN, Role.SUPERVISOR))],
)
async def sweep_now(request: Request) -> dict[str, int]:
    sweeper: Sweeper = request.app.state.sweeper
    return {"examined": await sweeper.sweep_once()}


def bootstrap(
    settings: SupervisionSettings,
) -> tuple[ServiceRuntime, Sweeper, service.SupervisionContext, EmergingDetector]:
    sc = service.SupervisionContext(
        profiles=default_profiles(),
        profile=settings.deadline_profile,
        tree=org.default_tree(),
        reminder_days=settings.reminder_days,
        grace_days=settings.escalation_grace_days,
        max_escalations=settings.max_escalations,
        backlog_after_days=settings.backlog_after_days,
        repeat_wave_threshold=settings.repeat_wave_threshold,
        repeat_wave_days=settings.repeat_wave_days,
        deployment=settings.deployment,
    )
    sc.deployment.check(sc.tree)
    detector = EmergingDetector(
        config=EmergingConfig(
            window_s=settings.emerging_window_h * 3600,
            step_s=settings.emerging_step_h * 3600,
            threshold=settings.emerging_threshold,
        ),
        tree=sc.tree,
        partitions=settings.topic_partitions,
        deployment=sc.deployment,
    )
    sweeper_ref: list[Sweeper] = []
    runtime = ServiceRuntime(
        service="supervision",
        settings=settings,
        database_url=settings.database_url,
        metadata=models.metadata,
        outbox=models.outbox,
        processed=models.processed_events,
        consumes=consumers.TOPICS,
        handlers=consumers.handlers(sc, on_new_deadlines=lambda: sweeper_ref[0].kick()),
        faust_setup=detector.install,
    )
    detector.bind(sessions=runtime.sessions, clock=runtime.clock.now, on_commit=runtime.relay.wake)
    sweeper = Sweeper(runtime, settings, sc)
    sweeper_ref.append(sweeper)
    if isinstance(runtime.clock, ManualClock):
        runtime.clock.on_change(sweeper.kick_async)
    return runtime, sweeper, sc, detector


def create_app(settings: SupervisionSettings | None = None) -> FastAPI:
    settings = settings or SupervisionSettings()
    settings.refuse_demo_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime, sweeper, sc, detector = bootstrap(settings)
        app.state.runtime, app.state.sweeper, app.state.supervision = runtime, sweeper, sc
        app.state.detector = detector
        await runtime.start()
        runtime.add_task(sweeper.run, "deadline-sweeper")
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(title="信访督办 Supervision", version="0.3.0", lifespan=lifespan)
    install_auth_errors(app)
    app.include_router(health_router())
    app.include_router(router)
    install_platform(app, max_body_bytes=settings.max_body_bytes, home="/docs")
    return app
