"""What the workbench's views depend on: the one object :func:`xinfang_workbench.main.bootstrap`
builds, the logged-in user, and a checked form post, as ``Annotated`` dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from xinfang_shared.auth.models import Role
from xinfang_shared.org import OrgTree

from xinfang_workbench.api import Api
from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.pages import Pages
from xinfang_workbench.session import COOKIE, User, check_post, user_of

FORM_MAX_FIELDS = 400
FORM_MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass
class Workbench:
    """The workbench: its settings, the five services' APIs, the org tree (for names only:
    every decision is the services') and its pages."""

    settings: WorkbenchSettings
    api: Api
    tree: OrgTree
    pages: Pages


class WrongRole(Exception):
    def __init__(self, roles: tuple[Role, ...]) -> None:
        super().__init__(roles)
        self.roles = roles


def workbench_of(request: Request) -> Workbench:
    wb: Workbench = request.app.state.workbench
    return wb


async def get_workbench(request: Request) -> Workbench:
    return workbench_of(request)


WorkbenchDep = Annotated[Workbench, Depends(get_workbench)]


async def get_user(request: Request, wb: WorkbenchDep) -> User:
    token = request.cookies.get(COOKIE) or ""
    return user_of(
        request,
        secret=wb.settings.auth_secret,
        tree=wb.tree,
        api=wb.api.as_user(token) if token else None,
    )


UserDep = Annotated[User, Depends(get_user)]


def role_user(*roles: Role) -> Callable[..., Awaitable[User]]:
    """A page for these roles only (the services refuse the rest anyway: this keeps a page
    that could only fail from being offered)."""

    async def check(user: UserDep) -> User:
        if user.role not in roles:
            raise WrongRole(roles)
        return user

    return check


@dataclass(frozen=True)
class Posted:
    """A form post from this site with this session's CSRF token, and its fields."""

    user: User
    form: FormData

    def get(self, name: str, default: str = "") -> str:
        value = self.form.get(name)
        return value.strip() if isinstance(value, str) else default

    def raw(self, name: str) -> str:
        value = self.form.get(name)
        return value if isinstance(value, str) else ""

    def checked(self, name: str) -> bool:
        return self.get(name) in ("1", "on", "true", "yes")

    def values(self) -> dict[str, str]:
        """Every text field as typed (to fill the form again after a refusal)."""
        return {k: v for k, v in self.form.multi_items() if isinstance(v, str)}


async def get_posted(request: Request, wb: WorkbenchDep, user: UserDep) -> Posted:
    form = await request.form(max_fields=FORM_MAX_FIELDS, max_part_size=FORM_MAX_FILE_BYTES)
    sent = form.get("csrf")
    check_post(
        request,
        user=user,
        sent_csrf=sent if isinstance(sent, str) else None,
        public_url=wb.settings.public_url,
    )
    return Posted(user=user, form=form)


PostedDep = Annotated[Posted, Depends(get_posted)]
