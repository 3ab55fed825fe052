"""Delivery channel adapters: e-mail (SMTP), WeCom and DingTalk group robots, an HTTP SMS gateway.

Every adapter takes an :class:`Outgoing` and either returns a short provider receipt or raises
:class:`DeliveryError`, whose ``permanent`` flag tells the caller whether a retry can help.
Retry scheduling (:func:`backoff_delay`) is pure; the rate limiter lives in ``xinfang_shared``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import re
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid
from typing import Any, Protocol

import aiosmtplib
import httpx
from xinfang_shared.timeutil import SHANGHAI

CHANNELS = frozenset({"email", "sms", "wecom", "dingtalk"})
LEVELS = frozenset({"info", "yellow", "red", "urgent"})
DELIVERY_HEADER = "X-Xinfang-Delivery"
USER_AGENT = "xinfang-notify"

_EMAIL_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
_PHONE_RE = re.compile(r"^\+?\d{5,20}$")
_WECOM_MAX_BYTES = 4096  # WeCom rejects markdown content above 4096 UTF-8 bytes (errcode 40058)


@dataclass(frozen=True)
class Outgoing:
    """One message for one address on one channel."""

    channel: str  # email | sms | wecom | dingtalk
    address: str  # e-mail address, phone number or webhook URL
    subject: str
    text: str  # plain text body (Chinese)
    level: str  # info | yellow | red | urgent
    case_number: str
    link: str | None = None
    secret: str | None = None  # DingTalk signing secret
    template_id: str | None = None  # SMS template
    params: dict[str, str] = field(default_factory=dict)  # SMS template params
    message_id: str = ""  # our delivery id, passed on as an idempotency hint
    date: datetime | None = None  # the business time it is sent at (the mail's Date:)

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if self.level not in LEVELS:
            raise ValueError(f"unknown level {self.level!r}")

    @property
    def emphasised(self) -> bool:
        return self.level in ("red", "urgent")


class DeliveryError(Exception):
    """A failed delivery; ``permanent`` is True when retrying cannot fix it."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"DeliveryError({str(self)!r}, permanent={self.permanent})"


class Channel(Protocol):
    name: str

    async def send(self, msg: Outgoing) -> str:
        """Deliver ``msg``; return a short provider receipt or raise :class:`DeliveryError`."""
        ...

    async def aclose(self) -> None: ...


# --------------------------------------------------------------------------- e-mail


class SmtpChannel:
    """Plain-text UTF-8 e-mail through an SMTP relay; one connection per message."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    def build(self, msg: Outgoing) -> EmailMessage:
        if not _EMAIL_RE.match(msg.address):
            raise DeliveryError(f"bad e-mail address {msg.address!r}", permanent=True)
        em = EmailMessage()
        em["From"] = self.sender
        em["To"] = msg.address
        em["Subject"] = msg.subject  # the default policy RFC 2047-encodes non-ASCII
        # the time of the notice's own clock (the manual clock in a demo), in China's zone
        em["Date"] = format_datetime(msg.date.astimezone(SHANGHAI)) if msg.date else formatdate()
        em["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        if msg.message_id:
            em[DELIVERY_HEADER] = msg.message_id
        em["X-Xinfang-Case"] = msg.case_number
        if msg.emphasised:
            em["X-Priority"] = "1"
            em["Importance"] = "high"
        body = msg.text if msg.link is None else f"{msg.text}\n\n{msg.link}"
        em.set_content(body, charset="utf-8")
        return em

    async def send(self, msg: Outgoing) -> str:
        em = self.build(msg)
        try:
            errors, response = await aiosmtplib.send(
                em,
                sender=self.sender,
                recipients=[msg.address],
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            text = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise DeliveryError(
                f"recipient refused: {text}", permanent=all(c >= 500 for c in codes)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP {exc.code} {exc.message}", permanent=exc.code >= 500
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # connect/timeout/disconnect
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}", permanent=False) from exc
        if errors:  # only reachable with several recipients; kept for completeness
            raise DeliveryError(f"recipient refused: {errors}", permanent=True)
        return response

    async def aclose(self) -> None:
        """Nothing to release: each message uses its own SMTP session."""


# --------------------------------------------------------------------------- HTTP


def _status_error(resp: httpx.Response, detail: str) -> DeliveryError:
    transient = resp.status_code in (408, 429) or resp.status_code >= 500
    return DeliveryError(f"HTTP {resp.status_code}: {detail[:200]}", permanent=not transient)


class _HttpChannel:
    """Shared plumbing: one lazily created AsyncClient per instance, error classification."""

    name = "http"

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=self.timeout, headers={"User-Agent": USER_AGENT}
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def _post(
        self, url: str, body: dict[str, Any], msg: Outgoing, headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, dict[str, Any] | None]:
        """POST JSON; transport errors become DeliveryError. Returns the response and its JSON."""
        if not url.startswith(("http://", "https://")):
            raise DeliveryError(f"bad webhook URL {url!r}", permanent=True)
        hdrs = dict(headers or {})
        if msg.message_id:
            hdrs[DELIVERY_HEADER] = msg.message_id
        try:
            resp = await self.client.post(url, json=body, headers=hdrs)
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise DeliveryError(f"bad URL: {exc}", permanent=True) from exc
        except httpx.TransportError as exc:  # connect errors, timeouts, protocol errors
            raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=False) from exc
        try:
            data = resp.json()
        except ValueError:
            data = None
        return resp, data if isinstance(data, dict) else None


class _RobotChannel(_HttpChannel):
    """WeCom and DingTalk robots share the reply format ``{"errcode": 0, "errmsg": "ok"}``."""

    transient_errcodes: frozenset[int] = frozenset()

    def _check(self, resp: httpx.Response, data: dict[str, Any] | None) -> str:
        if resp.status_code != 200:
            raise _status_error(resp, resp.text)
        if data is None:
            # A 200 that is not JSON is a proxy or a wrong URL: retrying will not help.
            raise DeliveryError(
                f"{self.name}: reply is not JSON: {resp.text[:200]}", permanent=True
            )
        errcode = data.get("errcode")
        errmsg = str(data.get("errmsg", ""))
        if errcode == 0:
            return errmsg or "ok"
        raise DeliveryError(
            f"{self.name} errcode {errcode}: {errmsg}",
            permanent=errcode not in self.transient_errcodes,
        )


# What robot markdown would read as syntax in our own text (a petition's summary, a name):
# written as the full-width character that looks alike, so it shows as typed and links,
# emphasis, headings, quotes and <font> tags in it do nothing.
_MARKDOWN = str.maketrans(
    {
        "\\": "＼",
        "`": "｀",
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "!": "！",
        "&": "＆",
    }
)
# a list item or setext underline at the start of a line
_LINE_MARK = re.compile(r"^(\s*)([-+=]|\d+\.)", re.MULTILINE)
_LINE_MARKS = str.maketrans({"-": "－", "+": "＋", "=": "＝", ".": "．"})


def markdown_text(text: str) -> str:
    """``text`` shown literally in a 企业微信 / 钉钉 robot's markdown."""
    text = text.translate(_MARKDOWN).replace("://", "：//")  # no bare link either
    return _LINE_MARK.sub(lambda m: m.group(1) + m.group(2).translate(_LINE_MARKS), text)


def _utf8_truncate(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


class WeComRobotChannel(_RobotChannel):
    """企业微信 group robot webhook (markdown message)."""

    name = "wecom"
    transient_errcodes = frozenset({-1, 45009})  # -1 system busy, 45009 rate limited

    @staticmethod
    def content(msg: Outgoing) -> str:
        subject = markdown_text(msg.subject)
        title = f'<font color="warning">{subject}</font>' if msg.emphasised else subject
        parts = [f"### {title}", markdown_text(msg.text)]
        if msg.link:
            parts.append(f"[查看详情]({msg.link})")
        return _utf8_truncate("\n".join(parts), _WECOM_MAX_BYTES)

    async def send(self, msg: Outgoing) -> str:
        body = {"msgtype": "markdown", "markdown": {"content": self.content(msg)}}
        resp, data = await self._post(msg.address, body, msg)
        return self._check(resp, data)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signature, already URL-encoded for the ``sign`` query parameter."""
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalkRobotChannel(_RobotChannel):
    """钉钉 group robot webhook (markdown message), signed when the message carries a secret."""

    name = "dingtalk"
    transient_errcodes = frozenset({-1, 130101})  # -1 system busy, 130101 sending too fast

    def __init__(
        self, timeout: float = 5.0, clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)
    ) -> None:
        super().__init__(timeout)
        self.clock_ms = clock_ms

    @staticmethod
    def markdown(msg: Outgoing) -> str:
        # DingTalk markdown needs a blank line between paragraphs or two spaces for a line break.
        parts = [
            f"### {markdown_text(msg.subject)}",
            markdown_text(msg.text).replace("\n", "  \n"),
        ]
        if msg.link:
            parts.append(f"[查看详情]({msg.link})")
        return "\n\n".join(parts)

    def url(self, msg: Outgoing) -> str:
        if not msg.secret:
            return msg.address
        ts = self.clock_ms()
        sep = "&" if "?" in msg.address else "?"
        return f"{msg.address}{sep}timestamp={ts}&sign={dingtalk_sign(msg.secret, ts)}"

    async def send(self, msg: Outgoing) -> str:
        body = {
            "msgtype": "markdown",
            "markdown": {"title": msg.subject, "text": self.markdown(msg)},
        }
        resp, data = await self._post(self.url(msg), body, msg)
        return self._check(resp, data)


# --------------------------------------------------------------------------- SMS


class SmsGatewayChannel(_HttpChannel):
    """A generic JSON SMS gateway: ``POST {phone, sign_name, template_id, params, ...}``."""

    name = "sms"

    def __init__(
        self,
        url: str,
        sign_name: str = "信访",
        api_key: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        super().__init__(timeout)
        self.url = url
        self.sign_name = sign_name
        self.api_key = api_key

    async def send(self, msg: Outgoing) -> str:
        phone = msg.address.replace(" ", "").replace("-", "")
        if not _PHONE_RE.match(phone):
            raise DeliveryError(f"bad phone number {msg.address!r}", permanent=True)
        body = {
            "phone": phone,
            "sign_name": self.sign_name,
            "template_id": msg.template_id,
            "params": msg.params,
            "text": msg.text,
            "delivery_id": msg.message_id,
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        resp, data = await self._post(self.url, body, msg, headers)
        detail = _gateway_message(data) if data is not None else resp.text
        if not resp.is_success:
            raise _status_error(resp, detail)
        code = None if data is None else data.get("code")
        if data is not None and (code == "OK" or (code == 0 and not isinstance(code, bool))):
            return str(data.get("biz_id") or data.get("request_id") or detail or "OK")
        # Gateways report throttling with codes such as "isv.BUSINESS_LIMIT_CONTROL".
        transient = any(w in str(code).upper() for w in ("LIMIT", "THROTTL", "BUSY"))
        raise DeliveryError(f"sms gateway code {code!r}: {detail[:200]}", permanent=not transient)


def _gateway_message(data: dict[str, Any]) -> str:
    for key in ("message", "msg", "error", "errmsg"):
        if data.get(key):
            return str(data[key])
    return ""


# --------------------------------------------------------------------------- retry helpers

_RNG = random.Random()


def backoff_delay(
    attempt: int, *, base: float = 2.0, cap: float = 600.0, rng: random.Random | None = None
) -> float:
    """Delay before retry number ``attempt`` (1-based): full jitter, at least 0.5 s.

    Uniform in ``[0, min(cap, base * 2**(attempt - 1))]``, then raised to 0.5 s if below.
    """
    exponent = min(max(attempt, 1) - 1, 64)  # 2**64 * base is far beyond any sane cap
    ceiling = min(cap, base * 2.0**exponent)
    delay = (rng or _RNG).uniform(0.0, ceiling)
    return max(0.5, delay)
