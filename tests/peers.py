"""Real protocol peers for the notify tests: an SMTP server (aiosmtpd) that collects mail, and a
local HTTP server playing the 企业微信 robot, the 钉钉 robot (verifying its signature itself) and
an SMS gateway, recording every request. Replies can be scripted (e.g. fail twice, then succeed).
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port


class CollectingHandler:
    """Accepts mail; refuses ``nobody@…`` with 550 and ``busy@…`` with 450."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such user"
        if address.startswith("busy@"):
            return "450 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[CollectingHandler, int]]:
    handler = CollectingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: Any
    peer_port: int


@dataclass
class FakeProviders:
    base: str = ""
    requests: list[Recorded] = field(default_factory=list)
    wecom_reply: tuple[int, Any] = (200, {"errcode": 0, "errmsg": "ok"})
    wecom_script: list[tuple[int, Any]] = field(default_factory=list)  # replies, then the default
    dingtalk_reply: tuple[int, Any] = (200, {"errcode": 0, "errmsg": "ok"})
    dingtalk_secret: str | None = None  # the secret the "DingTalk server" knows
    sms_reply: tuple[int, Any] = (200, {"code": "OK", "message": "OK", "biz_id": "biz-42"})
    sms_key: str | None = None

    async def record(self, request: web.Request) -> Recorded:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        rec = Recorded(
            path=request.path,
            query=dict(request.query),
            raw_query=request.rel_url.raw_query_string,
            headers=dict(request.headers),
            body=json.loads(await request.text()),
            peer_port=int(peer[1]) if peer else -1,
        )
        self.requests.append(rec)
        return rec

    async def wecom(self, request: web.Request) -> web.Response:
        await self.record(request)
        status, payload = self.wecom_script.pop(0) if self.wecom_script else self.wecom_reply
        return web.json_response(payload, status=status)

    async def dingtalk(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if self.dingtalk_secret is not None:
            # What DingTalk does: recompute HMAC-SHA256("{timestamp}\n{secret}") and compare.
            ts = rec.query.get("timestamp", "")
            got = rec.query.get("sign", "")
            string_to_sign = f"{ts}\n{self.dingtalk_secret}".encode()
            mac = hmac.new(self.dingtalk_secret.encode(), string_to_sign, hashlib.sha256)
            expected = base64.b64encode(mac.digest()).decode()
            fresh = ts.isdigit() and abs(int(ts) - time.time() * 1000) < 3_600_000
            if not (fresh and hmac.compare_digest(got, expected)):
                return web.json_response({"errcode": 310000, "errmsg": "sign not match"})
        status, payload = self.dingtalk_reply
        return web.json_response(payload, status=status)

    async def sms(self, request: web.Request) -> web.Response:
        rec = await self.record(request)
        if (
            self.sms_key is not None
            and rec.headers.get("Authorization") != f"Bearer {self.sms_key}"
        ):
            return web.json_response({"code": "UNAUTHORIZED", "message": "bad api key"}, status=401)
        status, payload = self.sms_reply
        if isinstance(payload, str):
            return web.Response(text=payload, status=status)
        return web.json_response(payload, status=status)


@pytest.fixture
async def providers() -> AsyncIterator[FakeProviders]:
    fake = FakeProviders()
    app = web.Application()
    app.router.add_post("/cgi-bin/webhook/send", fake.wecom)
    app.router.add_post("/robot/send", fake.dingtalk)
    app.router.add_post("/sms/send", fake.sms)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.base = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def parse_mail(envelope: Envelope) -> EmailMessage:
    raw = (
        envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
    )
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg
