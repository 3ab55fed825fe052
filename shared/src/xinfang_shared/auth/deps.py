"""FastAPI dependencies: who is calling (``CurrentUser``), may their role do this
(``require_roles``), which part of the org tree may they see (``CurrentScope``).

Refusals are :class:`AuthHTTPError`; :func:`install_auth_errors` makes the app answer them with
the platform's error body (``{"error", "message", "message_en"}``) instead of FastAPI's
``{"detail": ...}``. Use in a router::

    from xinfang_shared.auth.deps import CurrentScope, not_found_outside_scope, require_roles
    from xinfang_shared.auth.models import Role

    CASE_NOT_FOUND = error_body("not_found", "案件不存在", "no such case")

    @router.get(
        "/cases/{case_id}",
        dependencies=[Depends(require_roles(Role.HANDLER, Role.SUPERVISOR, Role.LEADER))],
    )
    async def read_case(case_id: str, scope: CurrentScope, session: SessionDep) -> CaseRead:
        case = await service.get_case_or_none(session=session, case_id=case_id)
        if case is None or not scope.may_handle(case.unit_code):
            not_found_outside_scope(CASE_NOT_FOUND)  # the same answer as a missing case
        return case

``CurrentUser`` gives the :class:`Principal` where no role check is wanted; a parameter
``me: Annotated[Principal, Depends(require_roles(Role.ADMIN))]`` checks and gives it at once.
The token is read once per request however many of these an endpoint uses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NoReturn

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordBearer

from xinfang_shared import org
from xinfang_shared.auth.models import ROLE_LABELS, Role
from xinfang_shared.auth.scope import Scope, UnknownOrgCode
from xinfang_shared.auth.security import InvalidToken, Principal, read_token
from xinfang_shared.clock import Clock, SystemClock
from xinfang_shared.http import error_body
from xinfang_shared.org import OrgTree
from xinfang_shared.runtime import RuntimeDep

TOKEN_URL = "/api/v1/auth/token"

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,  # a missing token is answered below, in the platform's error body
    description="登录获取令牌 / log in at POST " + TOKEN_URL,
)


class AuthHTTPError(HTTPException):
    """A refusal whose response body is ``body`` as is (see :func:`install_auth_errors`)."""

    def __init__(
        self, status_code: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status_code=status_code, detail=body, headers=headers)
        self.body = body


async def _auth_error_handler(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AuthHTTPError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


def install_auth_errors(app: FastAPI) -> None:
    """Answer :class:`AuthHTTPError` with its body. Call once in ``create_app`` of every
    service that uses these dependencies (without it the status is right but FastAPI wraps
    the body in ``{"detail": ...}``)."""
    app.add_exception_handler(AuthHTTPError, _auth_error_handler)


async def get_org_tree() -> OrgTree:
    """The deployment's org tree (a dependency, so a test app can override it). Async on
    purpose: FastAPI runs a plain ``def`` dependency in a worker thread, which cost intake
    about 0.4 ms of CPU per registration (bench.intake_wrk)."""
    return org.default_tree()


OrgTreeDep = Annotated[OrgTree, Depends(get_org_tree)]


def _unauthenticated(code: str, zh: str, en: str, challenge: str) -> AuthHTTPError:
    return AuthHTTPError(401, error_body(code, zh, en), headers={"WWW-Authenticate": challenge})


_WALL_CLOCK = SystemClock()


async def get_wall_clock() -> Clock:
    """The clock of security: token lifetimes, revocation cut-offs, the login throttle. Always
    the wall clock, also when the service's business clock is the demo's manual one (a
    dependency, so that a test can move it)."""
    return _WALL_CLOCK


WallClockDep = Annotated[Clock, Depends(get_wall_clock)]


def principal_of_token(token: str, rt: Any, *, now: datetime | None = None) -> Principal:
    """The principal a token names, checked with the service's secret at ``now`` (default: the
    wall clock, never the demo clock) and against the revocations it knows; :class:`InvalidToken`
    otherwise."""
    principal = read_token(token, secret=rt.settings.auth_secret, now=now or _WALL_CLOCK.now())
    if rt.revocations.revoked(principal):
        raise InvalidToken("revoked", principal.username)
    return principal


async def get_principal(
    rt: RuntimeDep, wall: WallClockDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    """The caller named by ``Authorization: Bearer <token>``, checked with the service's
    ``auth_secret`` on the wall clock; 401 when the token is missing or invalid."""
    if not token:
        raise _unauthenticated(
            "not_authenticated",
            "请先登录（缺少登录凭证）",
            "authentication required: send Authorization: Bearer <token>",
            "Bearer",
        )
    try:
        return principal_of_token(token, rt, now=wall.now())
    except InvalidToken as exc:
        raise _unauthenticated(
            "invalid_token", exc.message, exc.message_en, 'Bearer error="invalid_token"'
        ) from None


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets only these roles through (403 otherwise) and gives the principal.
    A role is not data, so a wrong role is 403, not 404. List ``Role.SERVICE`` where services
    may call."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(roles)
    labels = "、".join(ROLE_LABELS[r] for r in roles)
    names = ", ".join(r.value for r in roles)

    async def check_role(principal: CurrentUser) -> Principal:
        if principal.role not in allowed:
            raise AuthHTTPError(
                403,
                error_body(
                    "forbidden",
                    f"无权执行此操作：需要{labels}角色",
                    f"forbidden: this needs the role {names}",
                ),
            )
        return principal

    return check_role


async def get_scope(principal: CurrentUser, tree: OrgTreeDep) -> Scope:
    try:
        return Scope.of(principal, tree)
    except UnknownOrgCode:
        raise AuthHTTPError(
            403,
            error_body(
                "account_org_unknown",
                f"账号所属单位 {principal.org_code} 不在组织架构中，请联系管理员",
                f"the account's org {principal.org_code} is not in the org tree; "
                "ask an administrator",
            ),
        ) from None


CurrentScope = Annotated[Scope, Depends(get_scope)]


def not_found_outside_scope(not_found_body: dict[str, Any]) -> NoReturn:
    """Refuse an item outside the caller's scope exactly as a missing one: 404 with the body
    the endpoint gives for a missing item (pass it), so that the answer does not tell whether
    the item exists elsewhere."""
    raise AuthHTTPError(404, not_found_body)


def require_in_scope(scope: Scope, org_code: str, *, not_found_body: dict[str, Any]) -> None:
    """:func:`not_found_outside_scope` unless ``org_code`` is in ``scope``."""
    if not scope.covers(org_code):
        not_found_outside_scope(not_found_body)
