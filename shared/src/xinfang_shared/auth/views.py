"""Login and user administration. Mount with ``app.include_router(auth_router())`` in a service
whose metadata has the ``users`` table (:func:`~xinfang_shared.auth.models.users_table`), and
call :func:`~xinfang_shared.auth.deps.install_auth_errors` on the app."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_shared.auth import service, throttle
from xinfang_shared.auth.deps import (
    AuthHTTPError,
    CurrentScope,
    CurrentUser,
    OrgTreeDep,
    WallClockDep,
    not_found_outside_scope,
    principal_of_token,
    require_roles,
)
from xinfang_shared.auth.models import USERNAME_MAX, Role
from xinfang_shared.auth.revocation import revoke_tokens
from xinfang_shared.auth.schemas import (
    PrincipalRead,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from xinfang_shared.auth.scope import UnknownOrgCode, org_name
from xinfang_shared.auth.security import (
    InvalidToken,
    Principal,
    actor_name,
    issue_token,
    service_token,
)
from xinfang_shared.clock import Clock
from xinfang_shared.http import error_body
from xinfang_shared.org import OrgTree
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.settings import CommonSettings

log = logging.getLogger(__name__)
# Sent with a service token by a service that forwards its users' logins: the user's address.
FORWARDED_ADDRESS_HEADER = "X-Xinfang-Client-Address"
FORWARDED_TOKEN_TTL_S = 60


def forwarded_login_headers(
    service: str, settings: CommonSettings, request: Request
) -> dict[str, str]:
    """What a service that forwards its users' logins (notify's dashboard, the workbench) sends
    to the token issuer with them: its own service token and the browser's address, which the
    issuer's throttle then counts (see :func:`_client_address`)."""
    token = service_token(
        service,
        secret=settings.auth_secret,
        ttl_s=FORWARDED_TOKEN_TTL_S,
        org_code=settings.org_scope,
    )
    return {
        "Authorization": f"Bearer {token}",
        FORWARDED_ADDRESS_HEADER: request.client.host if request.client else "unknown",
    }


Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
_CHARGE_TRIES = 50


class UnlockRead(BaseModel):
    username: str
    cleared: int  # how many of the throttle's counters were cleared


def _org_not_found(code: str) -> dict[str, Any]:
    # the same answer for a code that does not exist and for one outside the caller's scope
    return error_body(
        "org_not_found",
        f"组织机构 {code} 不存在或不在您的管辖范围内",
        f"no org unit or department {code} in your scope",
    )


def _invalid_input(exc: service.InvalidUserInput) -> AuthHTTPError:
    return AuthHTTPError(
        422,
        error_body(
            "validation_error",
            "提交的数据有误，请按提示修改",
            "the request is invalid",
            errors=exc.errors,
        ),
    )


def _user_not_found(username: str) -> dict[str, Any]:
    return error_body(
        "user_not_found",
        f"用户 {username} 不存在或不在您的管辖范围内",
        f"no user {username} in your scope",
    )


def _wrong_credentials(tree: OrgTree, org_scope: str) -> dict[str, Any]:
    """The same answer for an unknown username, a wrong password and a disabled account, and a
    hint for the most common mistake: an account of another level (each level's system has
    its own accounts)."""
    unit = org_name(tree, org_scope) or org_scope
    return error_body(
        "invalid_credentials",
        f"用户名或密码错误。账号只能在开设它的那一级系统登录，这里是{unit}（{org_scope}）的系统；"
        "其他级别的账号请到该级的系统登录",
        f"wrong username or password. Accounts log in at the level that opened them; this is "
        f"the system of {unit} ({org_scope}): an account of another level logs in there",
    )


def _client_address(request: Request, rt: Any, wall: Clock) -> str:
    """The address a login comes from: the connection's, or, for a service of the deployment
    that forwards its users' logins (the notify dashboard) and says so with a service token,
    the address it names in :data:`FORWARDED_ADDRESS_HEADER`. Anyone else's header is ignored:
    a guesser could otherwise claim a fresh address for every try."""
    own = request.client.host if request.client else "unknown"
    named = request.headers.get(FORWARDED_ADDRESS_HEADER, "").strip()
    auth = request.headers.get("authorization", "")
    if not named or not auth.lower().startswith("bearer "):
        return own
    try:
        caller = principal_of_token(auth[7:].strip(), rt, now=wall.now())
    except InvalidToken:
        return own
    return named[: throttle.ADDRESS_MAX] if caller.kind == "service" else own


async def _charge_attempt(
    session: AsyncSession, *, username: str, address: str, wall: Clock
) -> float:
    """Charge a login attempt to the throttle's counters before its password is checked (and
    commit, so that every replica counts it): 0.0, or how long to wait (nothing charged)."""
    keys = throttle.keys_for(username, address)
    for _ in range(_CHARGE_TRIES):
        counters = await throttle.read_counters(session=session, keys=keys)
        await session.rollback()  # end the read: the charge below is a write of its own
        p = throttle.plan(throttle.DEFAULT_POLICY, counters, now=wall.now().timestamp())
        if p.wait_s > 0:
            return p.wait_s
        if await throttle.apply(session=session, updates=p.updates):
            await session.commit()
            throttle.alert(p, username=username, address=address)
            return 0.0
        await session.rollback()  # a concurrent attempt changed a counter: read it again
    return 1.0  # contended beyond reason: ask the client to come back


def auth_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["auth 登录与用户"])

    @router.post(
        "/auth/token",
        response_model=TokenRead,
        summary="登录获取令牌 / log in (OAuth2 password flow)",
        responses={
            401: {"description": "用户名或密码错误 / wrong username or password"},
            429: {"description": "尝试过于频繁，请按 Retry-After 等待 / too many attempts"},
        },
    )
    async def login(
        form: Annotated[OAuth2PasswordRequestForm, Depends()],
        request: Request,
        response: Response,
        session: SessionDep,
        rt: RuntimeDep,
        tree: OrgTreeDep,
        wall: WallClockDep,
    ) -> TokenRead:
        address = _client_address(request, rt, wall)
        wait_s = await _charge_attempt(session, username=form.username, address=address, wall=wall)
        if wait_s > 0:
            wait = max(1, math.ceil(wait_s))
            raise AuthHTTPError(
                429,
                error_body(
                    "too_many_failed_logins",
                    f"登录尝试过于频繁，请 {wait} 秒后再试（本单位管理员可立即解除）",
                    f"too many login attempts: try again in {wait} s "
                    "(an administrator of your unit can lift this at once)",
                    retry_after_s=wait,
                ),
                headers={"Retry-After": str(wait)},
            )
        user = await service.authenticate_or_none(
            session=session, username=form.username, password=form.password, tree=tree
        )
        if user is None:
            raise AuthHTTPError(
                401,
                _wrong_credentials(tree, rt.settings.org_scope),
                headers={"WWW-Authenticate": "Bearer"},
            )
        await throttle.succeeded(
            session=session, username=form.username, address=address, now=wall.now().timestamp()
        )
        await session.commit()
        principal = service.principal_of(user)
        ttl_s = rt.settings.auth_token_ttl_min * 60
        token = issue_token(principal, secret=rt.settings.auth_secret, ttl_s=ttl_s, now=wall.now())
        response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
        return TokenRead(
            access_token=token,
            expires_in=ttl_s,
            user=service.principal_read(principal, tree),
        )

    @router.get("/auth/me", response_model=PrincipalRead, summary="当前用户 / who am I")
    async def me(principal: CurrentUser, tree: OrgTreeDep) -> PrincipalRead:
        return service.principal_read(principal, tree)

    @router.post(
        "/users",
        status_code=status.HTTP_201_CREATED,
        response_model=UserRead,
        summary="创建用户（管理员，限本级及下级） / create a user (admin, own subtree)",
        responses={
            404: {"description": "组织机构不存在或不在管辖范围内 / org not in your scope"},
            409: {"description": "用户名已存在 / username taken"},
            422: {"description": "字段校验失败 / invalid field"},
        },
    )
    async def create_user(
        data: UserCreate,
        _admin: Admin,
        scope: CurrentScope,
        session: SessionDep,
        rt: RuntimeDep,
    ) -> UserRead:
        if not scope.covers(data.org_code):
            not_found_outside_scope(_org_not_found(data.org_code))
        try:
            user = await service.create_user(
                session=session,
                username=data.username,
                display_name=data.display_name,
                password=data.password,
                role=data.role,
                org_code=data.org_code,
                now=rt.clock.now(),
                tree=scope.tree,
            )
        except UnknownOrgCode:
            not_found_outside_scope(_org_not_found(data.org_code))
        except service.InvalidUserInput as exc:
            raise _invalid_input(exc) from None
        except service.UsernameTaken as exc:
            raise AuthHTTPError(
                409, error_body("username_taken", exc.message, exc.message_en)
            ) from None
        await session.commit()
        return user

    @router.patch(
        "/users/{username}",
        response_model=UserRead,
        summary="修改用户：停用、重置密码、变更角色（管理员，限本级及下级） / change a user",
        responses={
            404: {"description": "用户不存在或不在管辖范围内 / no such user in your scope"},
            422: {"description": "字段校验失败 / invalid field"},
        },
    )
    async def update_user(
        username: str,
        data: UserUpdate,
        admin: Admin,
        scope: CurrentScope,
        session: SessionDep,
        rt: RuntimeDep,
        wall: WallClockDep,
    ) -> UserRead:
        """Disabling an account (离职、调岗), a new password or a new role take effect at once:
        every token issued to the account so far is refused by every service (of every level)
        as soon as the revocation event reaches it; the person logs in again."""
        now, cutoff = rt.clock.now(), wall.now()
        current = await service.get_user_by_username_or_none(
            session=session, username=username, tree=scope.tree
        )
        if current is None or not scope.covers(current.org_code):
            not_found_outside_scope(_user_not_found(username))
        try:
            user, revoke = await service.update_user(
                session=session,
                username=username,
                active=data.active,
                password=data.password,
                role=data.role,
                display_name=data.display_name,
                tree=scope.tree,
            )
        except service.InvalidUserInput as exc:
            raise _invalid_input(exc) from None
        if revoke:
            await revoke_tokens(
                session=session,
                outbox=rt.outbox,
                username=user.username,
                reason="、".join(revoke),
                by=actor_name(admin),
                source=f"/xinfang/{rt.service}/{rt.settings.org_scope}",
                now=now,
                cutoff=cutoff,
            )
        await session.commit()
        if revoke:
            rt.revocations.note(user.username, cutoff)  # this replica at once; others by event
            rt.relay.wake()
        return user

    @router.post(
        "/users/{username}/unlock",
        response_model=UnlockRead,
        summary="解除登录限制（管理员，限本级及下级） / lift a user's login delay",
        responses={404: {"description": "用户不存在或不在管辖范围内 / no such user in your scope"}},
    )
    async def unlock(
        username: Annotated[str, Path(max_length=USERNAME_MAX)],
        admin: Admin,
        scope: CurrentScope,
        session: SessionDep,
    ) -> UnlockRead:
        """After the throttle's alert (too many failed logins, 登录尝试过于频繁): the account's
        owner may log in again at once, from any address. The password is not changed: reset it
        too (PATCH) if it may have been guessed."""
        current = await service.get_user_by_username_or_none(
            session=session, username=username, tree=scope.tree
        )
        if current is None or not scope.covers(current.org_code):
            not_found_outside_scope(_user_not_found(username))
        cleared = await throttle.unlock(session=session, username=current.username)
        await session.commit()
        log.warning("login throttle of %r lifted by %s", current.username, actor_name(admin))
        return UnlockRead(username=current.username, cleared=cleared)

    @router.get(
        "/users",
        response_model=list[UserRead],
        summary="用户列表（管理员，限本级及下级） / users in your subtree (admin)",
    )
    async def list_users(_admin: Admin, scope: CurrentScope, session: SessionDep) -> list[UserRead]:
        return await service.list_users(session=session, scope=scope)

    return router
