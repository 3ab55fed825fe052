"""Rendering: Jinja2 templates (``templates/``), the navigation each role gets, and the
filters that turn what the APIs answer into what a clerk reads (Chinese dates, no raw codes).
Every page extends ``base.html``: the user, unit and role, the navigation, the live counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import org_name
from xinfang_shared.org import OrgTree
from xinfang_shared.timeutil import SHANGHAI

from xinfang_workbench.session import User

NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: frozenset[Role]


_ALL = frozenset({Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN})
NAV: tuple[NavItem, ...] = (
    NavItem("/register", "登记", frozenset({Role.REGISTRAR})),
    NavItem("/todo", "待办", frozenset({Role.HANDLER, Role.REGISTRAR, Role.SUPERVISOR})),
    NavItem("/supervise", "督办", frozenset({Role.SUPERVISOR})),
    NavItem("/triage", "待分办", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    NavItem("/reports/overdue", "超期通报", frozenset({Role.SUPERVISOR, Role.LEADER})),
    NavItem("/leader", "包案", frozenset({Role.LEADER})),
    NavItem("/alerts", "预警签收", frozenset({Role.LEADER, Role.SUPERVISOR})),
    NavItem("/admin/users", "账号管理", frozenset({Role.ADMIN})),
    NavItem("/admin/org-tree", "组织机构", frozenset({Role.ADMIN})),
    NavItem("/stats", "统计", _ALL),
    NavItem("/messages", "消息", _ALL),
)


def nav_for(role: Role) -> list[NavItem]:
    return [item for item in NAV if role in item.roles]


HOME: dict[Role, str] = {
    Role.REGISTRAR: "/register",
    Role.HANDLER: "/todo",
    Role.SUPERVISOR: "/supervise",
    Role.LEADER: "/leader",
    Role.ADMIN: "/admin/users",
}


def home_of(role: Role) -> str:
    """The page a role starts on."""
    return HOME.get(role, "/messages")


def date_zh(value: Any) -> str:
    """``2026-12-01`` (or a date) as 2026年12月1日; empty for nothing."""
    if not value:
        return ""
    d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{d.year}年{d.month}月{d.day}日"


def datetime_zh(value: Any) -> str:
    """An instant in the deployment's time zone: 2026年12月1日 14:05."""
    if not value:
        return ""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    local = dt.astimezone(SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


class Pages:
    def __init__(self, tree: OrgTree | None = None) -> None:
        self.tree = tree
        self.env = Environment(
            loader=PackageLoader("xinfang_workbench", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["date_zh"] = date_zh
        self.env.filters["datetime_zh"] = datetime_zh
        self.env.filters["org_name"] = self.org_name

    def org_name(self, code: Any) -> str:
        """A unit or department by name, never its code (an unknown one: 其他单位)."""
        if not code:
            return ""
        name = org_name(self.tree, str(code)) if self.tree is not None else None
        return name or "其他单位"

    def html(self, name: str, **ctx: Any) -> str:
        return self.env.get_template(name).render(**ctx)

    def render(
        self,
        request: Request,
        name: str,
        *,
        user: User | None,
        status: int = 200,
        **ctx: Any,
    ) -> HTMLResponse:
        path = request.url.path
        nav = [
            {"href": i.href, "label": i.label, "active": path.startswith(i.href)}
            for i in (nav_for(user.role) if user else [])
        ]
        html = self.html(name, user=user, nav=nav, path=path, **ctx)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)
