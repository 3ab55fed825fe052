"""What a service that serves pages to a browser checks: that a state-changing request comes
from a page of its own origin (CSRF, on top of SameSite cookies), and where a login may send
the browser afterwards (no open redirect). Pure: a request's headers in, a decision out."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request

from xinfang_shared.text import text_problem


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def from_this_site(request: Request, public_url: str) -> bool:
    """Did a page of this very origin send this request? A browser says so in
    ``Sec-Fetch-Site`` (``same-origin``; ``none`` when the user typed it) or, older ones, in
    ``Origin``; SameSite cookies alone let a page of a sibling port or subdomain post here. A
    request that names neither is no browser's (curl, a script): it cannot be forged this way."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin.lower() in {_origin(str(request.base_url)), _origin(public_url)}


def safe_next(target: str | None, *, refused: tuple[str, ...] = ()) -> str:
    """Where to go after logging in: a path on this site only (no open redirect), never one
    starting with a ``refused`` prefix; ``/`` otherwise."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or text_problem(target) is not None
        or target.startswith(refused)
    ):
        return "/"
    return target
