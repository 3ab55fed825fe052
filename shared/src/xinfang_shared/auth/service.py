"""User accounts. Functions take the session and never commit: the caller does.

Password hashing (argon2: tens of milliseconds of CPU and 64 MiB of memory per hash, by design)
runs on a small thread pool of its own, so that a login does not stall the other requests of
the event loop and a burst of logins (or a password-guessing run) cannot take all the memory.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_shared import org
from xinfang_shared.auth.models import (
    DISPLAY_NAME_MAX,
    PERSON_ROLES,
    ROLE_LABELS,
    USERNAME_MAX,
    Role,
)
from xinfang_shared.auth.models import users as user_table
from xinfang_shared.auth.schemas import PrincipalRead, UserRead
from xinfang_shared.auth.scope import Scope, UnknownOrgCode, org_name
from xinfang_shared.auth.security import Principal, hash_password, verify_password
from xinfang_shared.org import OrgTree

USERNAME = re.compile(rf"^[a-z][a-z0-9._-]{{2,{USERNAME_MAX - 1}}}$")
PASSWORD_MIN = 8
PASSWORD_MAX = 128
_T = TypeVar("_T")
HASHING_THREADS = 4  # at most this many argon2 computations at once per process


@cache
def _hashing_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


async def _hashing(fn: Callable[..., _T], *args: Any) -> _T:
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool(), fn, *args)


class UserError(ValueError):
    """A user account could not be created; ``message`` (zh) and ``message_en`` say why."""

    code = "user_error"

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


class InvalidUserInput(UserError):
    """One or more fields are invalid; ``errors`` lists them as
    ``{"field", "code", "message", "message_en"}`` (the shape of intake's 422 errors)."""

    code = "validation_error"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(
            "；".join(e["message"] for e in errors), "; ".join(e["message_en"] for e in errors)
        )
        self.errors = errors


class UsernameTaken(UserError):
    code = "username_taken"

    def __init__(self, username: str) -> None:
        super().__init__(f"用户名已存在：{username}", f"username {username!r} is taken")
        self.username = username


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive: stored and looked up in lower case."""
    return username.strip().lower()


def _problem(field: str, code: str, zh: str, en: str) -> dict[str, str]:
    return {"field": field, "code": code, "message": zh, "message_en": en}


def _input_problems(
    *, username: str, display_name: str, password: str, role: Role
) -> list[dict[str, str]]:
    problems = []
    if not USERNAME.match(username):
        problems.append(
            _problem(
                "username",
                "invalid_username",
                f"用户名应为 3–{USERNAME_MAX} 位小写字母、数字或 . _ -，以字母开头",
                f"username must be 3-{USERNAME_MAX} lower-case letters, digits or . _ -, "
                "starting with a letter",
            )
        )
    if not display_name or len(display_name) > DISPLAY_NAME_MAX:
        problems.append(
            _problem(
                "display_name",
                "invalid_display_name",
                f"姓名不能为空，最多 {DISPLAY_NAME_MAX} 个字符",
                f"display name must be 1-{DISPLAY_NAME_MAX} characters",
            )
        )
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        problems.append(
            _problem(
                "password",
                "invalid_password",
                f"密码长度应为 {PASSWORD_MIN}–{PASSWORD_MAX} 个字符",
                f"password must be {PASSWORD_MIN}-{PASSWORD_MAX} characters",
            )
        )
    if role not in PERSON_ROLES:
        problems.append(
            _problem(
                "role",
                "invalid_role",
                "服务账号不能作为用户创建（服务间调用使用服务令牌）",
                "service accounts are not users: services call each other with service tokens",
            )
        )
    return problems


def user_read(row: Mapping[Any, Any], tree: OrgTree | None = None) -> UserRead:
    tree = tree or org.default_tree()
    role = Role(row["role"])
    return UserRead(
        username=row["username"],
        name=row["display_name"],
        role=role,
        role_label=ROLE_LABELS[role],
        org_code=row["org_code"],
        org_name=org_name(tree, row["org_code"]) or row["org_code"],
        active=row["active"],
        created_at=row["created_at"],
    )


def principal_of(user: UserRead) -> Principal:
    """The principal a logged-in user acts as."""
    return Principal(username=user.username, name=user.name, role=user.role, org_code=user.org_code)


def principal_read(principal: Principal, tree: OrgTree | None = None) -> PrincipalRead:
    tree = tree or org.default_tree()
    return PrincipalRead(
        username=principal.username,
        name=principal.name,
        role=principal.role,
        role_label=ROLE_LABELS[principal.role],
        org_code=principal.org_code,
        org_name=org_name(tree, principal.org_code) or principal.org_code,
        kind=principal.kind,
    )


_COLUMNS = (
    user_table.c.username,
    user_table.c.display_name,
    user_table.c.role,
    user_table.c.org_code,
    user_table.c.active,
    user_table.c.created_at,
)


async def get_user_by_username_or_none(
    *, session: AsyncSession, username: str, tree: OrgTree | None = None
) -> UserRead | None:
    row = (
        (
            await session.execute(
                select(*_COLUMNS).where(user_table.c.username == normalise_username(username))
            )
        )
        .mappings()
        .first()
    )
    return user_read(row, tree) if row is not None else None


async def create_user(
    *,
    session: AsyncSession,
    username: str,
    display_name: str,
    password: str,
    role: Role | str,
    org_code: str,
    now: datetime,
    tree: OrgTree | None = None,
) -> UserRead:
    """Add an active user. Raises :class:`InvalidUserInput` (username format, empty name,
    password shorter than 8, role ``service`` or unknown), :class:`UnknownOrgCode` (not a unit
    or department of the org tree) or :class:`UsernameTaken`. After ``UsernameTaken`` from a
    concurrent insert the caller's transaction is unusable: roll it back."""
    tree = tree or org.default_tree()
    username = normalise_username(username)
    display_name = display_name.strip()
    try:
        role = Role(role)
    except ValueError:
        raise InvalidUserInput(
            [
                _problem(
                    "role",
                    "invalid_role",
                    f"角色无效，可选：{'、'.join(PERSON_ROLES)}",
                    f"unknown role {role!r}, expected one of {', '.join(PERSON_ROLES)}",
                )
            ]
        ) from None
    problems = _input_problems(
        username=username, display_name=display_name, password=password, role=role
    )
    if problems:
        raise InvalidUserInput(problems)
    if org_name(tree, org_code) is None:
        raise UnknownOrgCode(org_code)
    if await get_user_by_username_or_none(session=session, username=username, tree=tree):
        raise UsernameTaken(username)
    password_hash = await _hashing(hash_password, password)
    row = {
        "username": username,
        "display_name": display_name,
        "password_hash": password_hash,
        "role": role.value,
        "org_code": org_code,
        "active": True,
        "created_at": now.astimezone(UTC),
    }
    try:
        await session.execute(insert(user_table), row)
    except IntegrityError:
        raise UsernameTaken(username) from None
    return user_read(row, tree)


@cache
def _dummy_hash() -> str:
    return hash_password("not-a-password-of-anyone")


async def authenticate_or_none(
    *, session: AsyncSession, username: str, password: str, tree: OrgTree | None = None
) -> UserRead | None:
    """The active user with this username and password, else None (no reason given: unknown
    user, wrong password and disabled account look alike, and take as long)."""
    row = (
        (
            await session.execute(
                select(*_COLUMNS, user_table.c.password_hash).where(
                    user_table.c.username == normalise_username(username)
                )
            )
        )
        .mappings()
        .first()
    )
    stored = row["password_hash"] if row is not None else await _hashing(_dummy_hash)
    ok = await _hashing(verify_password, password, stored)
    if row is None or not ok or not row["active"]:
        return None
    return user_read(row, tree)


class UserNotFound(LookupError):
    pass


async def update_user(
    *,
    session: AsyncSession,
    username: str,
    active: bool | None = None,
    password: str | None = None,
    role: Role | None = None,
    display_name: str | None = None,
    tree: OrgTree | None = None,
) -> tuple[UserRead, list[str]]:
    """Change an account; returns it and what changed that must revoke its tokens (disabled, a
    new password, a new role: empty when none). Raises :class:`UserNotFound` or
    :class:`InvalidUserInput` (nothing changed then)."""
    tree = tree or org.default_tree()
    current = await get_user_by_username_or_none(session=session, username=username, tree=tree)
    if current is None:
        raise UserNotFound(username)
    problems = _input_problems(
        username=current.username,
        display_name=(display_name.strip() if display_name is not None else current.name),
        password=password if password is not None else "x" * PASSWORD_MIN,
        role=role or current.role,
    )
    if problems:
        raise InvalidUserInput(problems)
    values: dict[str, Any] = {}
    revoke: list[str] = []
    if display_name is not None:
        values["display_name"] = display_name.strip()
    if active is not None and active != current.active:
        values["active"] = active
        if not active:
            revoke.append("账号停用")
    if role is not None and role != current.role:
        values["role"] = role.value
        revoke.append("角色变更")
    if password is not None:
        values["password_hash"] = await _hashing(hash_password, password)
        revoke.append("密码重置")
    if values:
        await session.execute(
            update(user_table).where(user_table.c.username == current.username).values(**values)
        )
    user = await get_user_by_username_or_none(session=session, username=username, tree=tree)
    assert user is not None
    return user, revoke


async def list_users(
    *,
    session: AsyncSession,
    scope: Scope,
    role: Role | None = None,
    active_only: bool = False,
) -> list[UserRead]:
    """The users whose org is in ``scope`` (only of ``role``, only active ones if asked), by
    org code then username."""
    query = select(*_COLUMNS).where(user_table.c.org_code.in_(sorted(scope.org_codes)))
    if role is not None:
        query = query.where(user_table.c.role == role.value)
    if active_only:
        query = query.where(user_table.c.active.is_(True))
    ordered = query.order_by(user_table.c.org_code, user_table.c.username)
    rows = (await session.execute(ordered)).mappings().all()
    return [user_read(r, scope.tree) for r in rows]


async def seed_users(
    *,
    session: AsyncSession,
    users: list[dict[str, Any]],
    now: datetime,
    tree: OrgTree | None = None,
) -> list[UserRead]:
    """Create the users whose username does not exist yet (idempotent: run it at every start).
    Each dict has the keyword arguments of :func:`create_user`: ``username``,
    ``display_name``, ``password``, ``role``, ``org_code``. Returns the users created."""
    created = []
    for spec in users:
        existing = await get_user_by_username_or_none(
            session=session, username=str(spec["username"]), tree=tree
        )
        if existing is not None:
            continue
        created.append(
            await create_user(
                session=session,
                username=str(spec["username"]),
                display_name=str(spec["display_name"]),
                password=str(spec["password"]),
                role=spec["role"],
                org_code=str(spec["org_code"]),
                now=now,
                tree=tree,
            )
        )
    return created
