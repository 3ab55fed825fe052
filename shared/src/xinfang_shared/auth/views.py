"""Login and user administration. Mount with ``app.include_router(auth_router())`` in a service
whose metadata has the ``users`` table (:func:`~xinfang_shared.auth.models.users_table`), and
call :func:`~xinfang_shared.auth.deps.install_auth_errors` on the app."""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from xinfang_shared.auth import service
from xinfang_shared.auth.deps import (
    AuthHTTPError,
    CurrentScope,
    CurrentUser,
    OrgTreeDep,
    not_found_outside_scope,
    require_roles,
)
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.revocation import revoke_tokens
from xinfang_shared.auth.schemas import (
    PrincipalRead,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)
from xinfang_shared.auth.scope import UnknownOrgCode
from xinfang_shared.auth.security import Principal, actor_name, issue_token
from xinfang_shared.http import error_body
from xinfang_shared.runtime import RuntimeDep, SessionDep

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]


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


def auth_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["auth 登录与用户"])

    @router.post(
        "/auth/token",
        response_model=TokenRead,
        summary="登录获取令牌 / log in (OAuth2 password flow)",
        responses={
            401: {"description": "用户名或密码错误 / wrong username or password"},
            429: {"description": "登录失败次数过多 / too many failed logins, see Retry-After"},
        },
    )
    async def login(
        form: Annotated[OAuth2PasswordRequestForm, Depends()],
        response: Response,
        session: SessionDep,
        rt: RuntimeDep,
        tree: OrgTreeDep,
    ) -> TokenRead:
        now = rt.clock.now()
        locked = await service.login_locked_until_or_none(
            session=session, username=form.username, now=now
        )
        if locked is not None:
            wait_s = max(1, math.ceil((locked - now).total_seconds()))
            raise AuthHTTPError(
                429,
                error_body(
                    "too_many_failed_logins",
                    f"登录失败次数过多，请{math.ceil(wait_s / 60)}分钟后再试",
                    f"too many failed logins: try again in {wait_s} s",
                ),
                headers={"Retry-After": str(wait_s)},
            )
        user = await service.authenticate_or_none(
            session=session, username=form.username, password=form.password, tree=tree
        )
        if user is None:
            await service.record_login_failure(session=session, username=form.username, now=now)
            await session.commit()
            raise AuthHTTPError(
                401,
                error_body("invalid_credentials", "用户名或密码错误", "wrong username or password"),
                headers={"WWW-Authenticate": "Bearer"},
            )
        await service.clear_login_failures(session=session, username=form.username, now=now)
        await session.commit()
        principal = service.principal_of(user)
        ttl_s = rt.settings.auth_token_ttl_min * 60
        token = issue_token(
            principal, secret=rt.settings.auth_secret, ttl_s=ttl_s, now=rt.clock.now()
        )
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
    ) -> UserRead:
        """Disabling an account (离职、调岗), a new password or a new role take effect at once:
        every token issued to the account so far is refused by every service (of every level)
        as soon as the revocation event reaches it; the person logs in again."""
        now = rt.clock.now()
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
            )
        await session.commit()
        if revoke:
            rt.revocations.note(user.username, now)  # this replica at once; others by the event
            rt.relay.wake()
        return user

    @router.get(
        "/users",
        response_model=list[UserRead],
        summary="用户列表（管理员，限本级及下级） / users in your subtree (admin)",
    )
    async def list_users(_admin: Admin, scope: CurrentScope, session: SessionDep) -> list[UserRead]:
        return await service.list_users(session=session, scope=scope)

    return router
