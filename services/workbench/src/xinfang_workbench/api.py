"""The workbench's one way to the five services: their HTTP APIs, called with the logged-in
user's token, so every rule (roles, scope, the law's steps) is the services' own. The workbench
keeps no case data. A file a service makes (a 台账 export) is passed on to the browser chunk by
chunk as it arrives (:class:`Download`), never held whole.

An answer the page must handle becomes an exception a page can show:
- 401 (the token expired or was revoked): :class:`SessionExpired`, back to the login form;
- 404 (missing or outside the user's scope, the same answer): :class:`NotFound`;
- any other 4xx: :class:`Refused`, with the service's Chinese message and, for a 422, each
  field's message keyed by the field's path (``petitioners.0.id_number``), which is the form
  field's name;
- no answer or a 5xx: :class:`Unavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger(__name__)
SERVICE_LABELS = {
    "intake": "登记服务",
    "routing": "分办服务",
    "supervision": "督办服务",
    "notify": "通知服务",
    "reports": "统计服务",
}
# what a download passes on to the browser from the service's answer
DOWNLOAD_HEADERS = ("content-type", "content-disposition")


class SessionExpired(Exception):
    """The user's token is no longer accepted: log in again."""


class Unavailable(Exception):
    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.message = f"{SERVICE_LABELS.get(service, service)}暂不可用，请稍后再试"


@dataclass
class Refused(Exception):
    """A 4xx other than 401: the service's words for it."""

    status: int
    message: str
    errors: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.message}"


class NotFound(Refused):
    pass


def refusal(status: int, body: Any) -> Refused:
    doc = body if isinstance(body, dict) else {}
    message = str(doc.get("message") or "请求未被接受")
    errors: dict[str, str] = {}
    for e in doc.get("errors") or []:
        if isinstance(e, dict) and "field" in e:
            errors.setdefault(str(e["field"]), str(e.get("message") or "取值无效"))
    cls = NotFound if status == 404 else Refused
    return cls(status=status, message=message, errors=errors, body=doc)


@dataclass
class Api:
    """One pooled HTTP client per service."""

    clients: dict[str, httpx.AsyncClient]

    @classmethod
    def connect(cls, urls: Mapping[str, str], *, timeout_s: float) -> Api:
        return cls(
            {name: httpx.AsyncClient(base_url=url, timeout=timeout_s) for name, url in urls.items()}
        )

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()

    def as_user(self, token: str) -> UserApi:
        return UserApi(self, token)

    async def send(
        self, service: str, method: str, path: str, *, token: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            r = await self.clients[service].request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            log.warning("%s %s%s: no answer: %s", method, service, path, exc)
            raise Unavailable(service, str(exc)) from exc
        return _checked(service, method, path, r, token=token)

    async def open_stream(
        self,
        service: str,
        path: str,
        *,
        token: str,
        params: Mapping[str, Any],
        read_timeout_s: float,
    ) -> httpx.Response:
        """GET a file, its body not read yet (the caller streams it and closes it). An answer
        other than 2xx is read (it is short) and raised as :meth:`send` does."""
        client = self.clients[service]
        request = client.build_request(
            "GET",
            path,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(client.timeout.connect, read=read_timeout_s),
        )
        try:
            r = await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.warning("GET %s%s: no answer: %s", service, path, exc)
            raise Unavailable(service, str(exc)) from exc
        if r.status_code < 300:
            return r
        try:
            await r.aread()
        except httpx.HTTPError as exc:
            raise Unavailable(service, str(exc)) from exc
        finally:
            await r.aclose()
        _checked(service, "GET", path, r, token=token)
        raise refusal(r.status_code, _json(r))


def _checked(
    service: str, method: str, path: str, r: httpx.Response, *, token: str | None
) -> httpx.Response:
    if r.status_code == 401 and token:
        raise SessionExpired()
    if r.status_code >= 500:
        log.warning("%s %s%s answered %s: %s", method, service, path, r.status_code, r.text[:300])
        raise Unavailable(service, f"HTTP {r.status_code}")
    return r


@dataclass
class Download:
    """A file on its way from a service: its type and name (``Content-Disposition``) and its
    bytes as they arrive. :meth:`chunks` closes the connection when done or abandoned."""

    response: httpx.Response

    def headers(self) -> dict[str, str]:
        found = {
            k: self.response.headers[k] for k in DOWNLOAD_HEADERS if k in self.response.headers
        }
        found.setdefault("content-disposition", "attachment")
        return {**found, "cache-control": "no-store"}

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.aiter_bytes():
                yield chunk
        except httpx.HTTPError as exc:
            # cut off midway: raised on, so the browser's download fails instead of ending as
            # if the file were whole
            log.warning("download cut off: %s", exc)
            raise
        finally:
            await self.response.aclose()

    async def close(self) -> None:
        await self.response.aclose()


@dataclass
class UserApi:
    """The APIs as the logged-in user: every call carries the user's token."""

    api: Api
    token: str

    async def call(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        r = await self.api.send(service, method, path, token=self.token, **kwargs)
        body = _json(r)
        if r.status_code >= 400:
            raise refusal(r.status_code, body)
        return body

    async def get(self, service: str, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v not in (None, "", [])}
        return await self.call(service, "GET", path, params=clean)

    async def post(self, service: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["json"] = body
        return await self.call(service, "POST", path, **kwargs)

    async def patch(self, service: str, path: str, body: Any) -> Any:
        return await self.call(service, "PATCH", path, json=body)

    async def download(
        self, service: str, path: str, *, read_timeout_s: float, **params: Any
    ) -> Download:
        """A file the service makes, to pass on as it arrives (see :class:`Download`)."""
        clean = {k: v for k, v in params.items() if v not in (None, "", [])}
        r = await self.api.open_stream(
            service, path, token=self.token, params=clean, read_timeout_s=read_timeout_s
        )
        return Download(r)


def _json(r: httpx.Response) -> Any:
    if not r.content:
        return None
    try:
        return r.json()
    except ValueError:
        return {"message": r.text[:300]} if r.status_code >= 400 else r.text
