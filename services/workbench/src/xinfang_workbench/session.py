"""The browser session: the token intake issued, kept in an HttpOnly, SameSite=Strict cookie,
and what every form post must carry.

- The token is checked here with the deployment's secret (signature and expiry) to show who is
  logged in; the services check it again, revocation included, on every call (a 401 from any of
  them ends the session: :class:`~xinfang_workbench.api.SessionExpired`).
- CSRF: every form carries ``csrf``, an HMAC of the session's token under the deployment's
  secret (another site cannot read it), and a post must come from this origin
  (``Sec-Fetch-Site`` / ``Origin``), on top of the SameSite cookie.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request, Response
from xinfang_shared import browser
from xinfang_shared.auth.models import ROLE_LABELS, Role
from xinfang_shared.auth.scope import org_name
from xinfang_shared.auth.security import InvalidToken, Principal, read_token
from xinfang_shared.org import OrgTree

from xinfang_workbench.api import UserApi

COOKIE = "xf_workbench_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class LoginRequired(Exception):
    """No usable session: to the login form, then back to ``next_url``."""

    def __init__(self, next_url: str, *, expired: bool) -> None:
        super().__init__(next_url)
        self.next_url = next_url
        self.expired = expired


class CrossSite(Exception):
    """A form post another site's page made, or one without this session's CSRF token."""


@dataclass(frozen=True)
class User:
    """The logged-in person, as every page shows them, and the APIs in their name."""

    principal: Principal
    token: str
    org_label: str  # the unit or department, by name
    csrf: str
    api: UserApi

    @property
    def role(self) -> Role:
        return self.principal.role

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.principal.role]

    @property
    def username(self) -> str:
        return self.principal.username

    @property
    def name(self) -> str:
        return self.principal.name

    def has(self, *roles: Role) -> bool:
        return self.principal.role in roles


def csrf_token(token: str, secret: str) -> str:
    return hmac.new(secret.encode(), b"csrf:" + token.encode(), hashlib.sha256).hexdigest()[:40]


def principal_or_none(token: str | None, *, secret: str) -> Principal | None:
    if not token:
        return None
    try:
        principal = read_token(token, secret=secret, now=datetime.now(UTC))
    except InvalidToken:
        return None
    return principal if principal.kind == "user" else None


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def user_of(request: Request, *, secret: str, tree: OrgTree, api: UserApi | None) -> User:
    token = request.cookies.get(COOKIE)
    principal = principal_or_none(token, secret=secret)
    if token is None or principal is None or api is None:
        raise LoginRequired(here(request), expired=token is not None)
    return User(
        principal=principal,
        token=token,
        org_label=org_name(tree, principal.org_code) or "（未知单位）",
        csrf=csrf_token(token, secret),
        api=api,
    )


def check_post(
    request: Request, *, user: User | None, sent_csrf: str | None, public_url: str
) -> None:
    """:class:`CrossSite` unless a state-changing request comes from this origin and, once
    logged in, carries this session's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    if not browser.from_this_site(request, public_url):
        raise CrossSite()
    if user is not None and not hmac.compare_digest(sent_csrf or "", user.csrf):
        raise CrossSite()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a page of this site, never the login form itself."""
    return browser.safe_next(target, refused=("/login",))


def keep(response: Response, token: str, *, max_age: int | None, secure: bool) -> None:
    response.set_cookie(
        COOKIE, token, max_age=max_age, path="/", secure=secure, httponly=True, samesite="strict"
    )


def forget(response: Response, *, secure: bool) -> None:
    response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
