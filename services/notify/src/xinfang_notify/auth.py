"""Who is calling notify, and what they may see.

A caller is named by a token, as everywhere on the platform: ``Authorization: Bearer <token>``
(API clients, other services) or, for the browser dashboard, the session cookie that notify's
login form sets (an ``EventSource`` cannot send a header). The header wins when both are sent.

What a caller sees is what is addressed inside their org subtree; a handler sees what is
addressed to their own department or unit. Something addressed to no known unit (the petitioner
receipts, a recipient missing from the directory) is seen only at the top of the tree.
"""

from __future__ import annotations

from typing import Annotated

import jwt
from fastapi import Depends, Request
from xinfang_shared.auth import deps
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, unit_of
from xinfang_shared.auth.security import InvalidToken, Principal
from xinfang_shared.browser import from_this_site
from xinfang_shared.http import error_body
from xinfang_shared.runtime import ServiceRuntime

from xinfang_notify.deps import NotifyDep

COOKIE = "xf_notify_session"


def token_of(request: Request, bearer: str | None) -> str | None:
    return bearer or request.cookies.get(COOKIE) or None


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CROSS_SITE = error_body(
    "cross_origin_request",
    "拒绝来自其他网站的请求：请在看板页面上操作",
    "refused: a state-changing request from another origin (cross-site request forgery)",
)


def check_same_origin(request: Request, public_url: str) -> None:
    """403 for a state-changing request another site's page made (CSRF)."""
    if request.method not in SAFE_METHODS and not from_this_site(request, public_url):
        raise deps.AuthHTTPError(403, CROSS_SITE)


def read(token: str, rt: ServiceRuntime) -> tuple[Principal, int]:
    """The principal a token names and when it expires (epoch seconds); InvalidToken if it
    cannot be trusted (at the service clock's time)."""
    principal = deps.principal_of_token(token, rt)
    # read_token checked the signature and the expiry; this only takes the number out
    exp = int(jwt.decode(token, options={"verify_signature": False})["exp"])
    return principal, exp


async def get_principal(
    request: Request,
    notify: NotifyDep,
    bearer: Annotated[str | None, Depends(deps.oauth2_scheme)],
) -> Principal:
    """The caller, from the Authorization header or the dashboard's cookie; 401 otherwise.
    Remembers the token's expiry in ``request.state.token_expires`` (the live stream ends then)."""
    token = token_of(request, bearer)
    if token and not bearer:  # a cookie comes with every request, whoever's page sends it
        check_same_origin(request, notify.nc.public_url)
    if not token:
        raise deps.AuthHTTPError(
            401,
            error_body(
                "not_authenticated",
                "请先登录（缺少登录凭证）",
                "authentication required: send Authorization: Bearer <token> "
                "or log in to the dashboard",
            ),
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        principal, exp = read(token, notify.runtime)
    except InvalidToken as exc:
        raise deps.AuthHTTPError(
            401,
            error_body("invalid_token", exc.message, exc.message_en),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    request.state.token_expires = exp
    return principal


CurrentUser = Annotated[Principal, Depends(get_principal)]


async def get_scope(principal: CurrentUser, notify: NotifyDep) -> Scope:
    """The caller's part of notify's org tree (403 if the account's org is not in it)."""
    return await deps.get_scope(principal, notify.nc.tree)


CurrentScope = Annotated[Scope, Depends(get_scope)]


def org_not_found(code: str) -> dict[str, object]:
    # the same answer for a code that does not exist and for one outside the caller's scope
    return error_body(
        "org_not_found",
        f"单位 {code} 不存在或不在您的管辖范围内",
        f"no org unit or department {code} in your scope",
    )


def sees(scope: Scope, code: str | None) -> bool:
    """May the caller see what is addressed to ``code`` (a unit or department code)?"""
    tree = scope.tree
    unit = unit_of(tree, code) if code else None
    if scope.principal.role is Role.HANDLER:
        own = scope.principal.org_code
        # their department's things; a handler at a unit: the unit's and its departments'
        return code == own or (tree.unit(own) is not None and unit == own)
    if unit is None:  # addressed to no known unit: only the top of the tree sees it
        top = tree.unit(scope.unit_code)
        return top is not None and top.parent is None
    return scope.covers(unit)


def narrow(scope: Scope, org: str | None) -> str | None:
    """Check an ``org`` filter: it may only narrow the caller's view (404 otherwise, the same
    as for an org that does not exist)."""
    if org is None:
        return None
    if unit_of(scope.tree, org) is None or not sees(scope, org):
        deps.not_found_outside_scope(org_not_found(org))
    return org


def within(scope: Scope, org: str | None, code: str | None) -> bool:
    """Is ``code`` inside the ``org`` filter (a unit: it and below; a department: itself)?"""
    if org is None:
        return True
    if not code:
        return False
    tree = scope.tree
    if tree.unit(org) is None:
        return code == org
    unit = unit_of(tree, code)
    return unit is not None and tree.is_ancestor(org, unit)
