"""Delivery channels against a real SMTP server (aiosmtpd) and a local fake of the HTTP providers.

The HTTP fake plays the WeCom robot, the DingTalk robot (verifying the signature itself) and a
generic SMS gateway; every request is recorded so the tests can inspect what went over the wire.
"""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import time
from email.message import EmailMessage
from typing import Any

import pytest
from xinfang_notify.delivery.channels import (
    Channel,
    DeliveryError,
    DingTalkRobotChannel,
    Outgoing,
    SmsGatewayChannel,
    SmtpChannel,
    WeComRobotChannel,
    dingtalk_sign,
)

from tests.conftest import free_port
from tests.peers import CollectingHandler, FakeProviders

SUBJECT = "超期：XF-2025-000123 办理期限已超期3天"
TEXT = "市住建局：信访件 XF-2025-000123 的办理期限已到期，请立即办理并说明情况。"
LINK = "https://xinfang.example.gov.cn/cases/XF-2025-000123"
SENDER = "notify@xinfang.example.gov.cn"


def outgoing(channel: str, address: str, **kw: Any) -> Outgoing:
    base: dict[str, Any] = {
        "subject": SUBJECT,
        "text": TEXT,
        "level": "red",
        "case_number": "XF-2025-000123",
        "link": LINK,
        "message_id": "dlv-0001",
    }
    base.update(kw)
    return Outgoing(channel=channel, address=address, **base)


# --------------------------------------------------------------------------- SMTP


async def test_smtp_delivers_chinese_subject_body_and_link(
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    handler, port = smtp_server
    channel = SmtpChannel("127.0.0.1", port, SENDER)
    receipt = await channel.send(outgoing("email", "zhangsan@zjj.example.gov.cn"))
    assert "accepted" in receipt

    assert len(handler.envelopes) == 1
    env = handler.envelopes[0]
    assert env.mail_from == SENDER
    assert env.rcpt_tos == ["zhangsan@zjj.example.gov.cn"]
    raw = env.original_content or b""
    assert isinstance(raw, bytes)
    assert b"=?utf-8?" in raw.lower()  # RFC 2047 encoded-word on the wire, not raw UTF-8
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == SUBJECT
    assert parsed["To"] == "zhangsan@zjj.example.gov.cn"
    assert parsed["X-Xinfang-Delivery"] == "dlv-0001"
    assert parsed.get_content_charset() == "utf-8"
    body = parsed.get_content()
    assert TEXT in body
    assert LINK in body.splitlines()  # the link sits on its own line


async def test_smtp_refused_recipient_is_permanent(
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    handler, port = smtp_server
    with pytest.raises(DeliveryError) as info:
        await SmtpChannel("127.0.0.1", port, SENDER).send(outgoing("email", "nobody@example.org"))
    assert info.value.permanent is True
    assert "550" in str(info.value)
    assert handler.envelopes == []


async def test_smtp_temporary_refusal_is_transient(
    smtp_server: tuple[CollectingHandler, int],
) -> None:
    _, port = smtp_server
    with pytest.raises(DeliveryError) as info:
        await SmtpChannel("127.0.0.1", port, SENDER).send(outgoing("email", "busy@example.org"))
    assert info.value.permanent is False
    assert "450" in str(info.value)


async def test_smtp_server_not_listening_is_transient() -> None:
    channel = SmtpChannel("127.0.0.1", free_port(), SENDER, timeout=3.0)
    with pytest.raises(DeliveryError) as info:
        await channel.send(outgoing("email", "zhangsan@example.org"))
    assert info.value.permanent is False


async def test_smtp_bad_address_is_permanent() -> None:
    channel = SmtpChannel("127.0.0.1", free_port(), SENDER)
    with pytest.raises(DeliveryError) as info:
        await channel.send(outgoing("email", "not-an-address\r\nBcc: x@evil.example"))
    assert info.value.permanent is True


# --------------------------------------------------------------------------- HTTP providers


async def test_wecom_markdown_shape_and_success(providers: FakeProviders) -> None:
    channel = WeComRobotChannel()
    url = f"{providers.base}/cgi-bin/webhook/send?key=abc-123"
    try:
        receipt = await channel.send(outgoing("wecom", url))
        await channel.send(outgoing("wecom", url, level="info", link=None))
    finally:
        await channel.aclose()
    assert receipt == "ok"
    first, second = providers.requests
    assert first.query == {"key": "abc-123"}
    assert first.headers["X-Xinfang-Delivery"] == "dlv-0001"
    assert first.body["msgtype"] == "markdown"
    content = first.body["markdown"]["content"]
    assert content.startswith(f'### <font color="warning">{SUBJECT}</font>\n')
    assert TEXT in content
    assert content.endswith(f"[查看详情]({LINK})")
    plain = second.body["markdown"]["content"]
    assert plain.startswith(f"### {SUBJECT}\n")
    assert "font" not in plain and "查看详情" not in plain
    assert set(first.body) == {"msgtype", "markdown"}
    # One AsyncClient per channel: the second request reused the kept-alive connection.
    assert first.peer_port == second.peer_port


async def test_wecom_rate_limited_is_transient(providers: FakeProviders) -> None:
    providers.wecom_reply = (200, {"errcode": 45009, "errmsg": "api freq out of limit"})
    channel = WeComRobotChannel()
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("wecom", f"{providers.base}/cgi-bin/webhook/send?key=k"))
    finally:
        await channel.aclose()
    assert info.value.permanent is False
    assert "45009" in str(info.value)


async def test_wecom_invalid_key_is_permanent(providers: FakeProviders) -> None:
    providers.wecom_reply = (200, {"errcode": 93000, "errmsg": "invalid webhook url"})
    channel = WeComRobotChannel()
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("wecom", f"{providers.base}/cgi-bin/webhook/send?key=k"))
    finally:
        await channel.aclose()
    assert info.value.permanent is True


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (429, False), (408, False), (404, True), (400, True)],
)
async def test_wecom_http_status_classification(
    providers: FakeProviders, status: int, permanent: bool
) -> None:
    providers.wecom_reply = (status, {"error": "nope"})
    channel = WeComRobotChannel()
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("wecom", f"{providers.base}/cgi-bin/webhook/send?key=k"))
    finally:
        await channel.aclose()
    assert info.value.permanent is permanent
    assert str(status) in str(info.value)


async def test_dingtalk_signed_request_verified_server_side(providers: FakeProviders) -> None:
    secret = providers.dingtalk_secret = "SEC0123456789abcdef+/="
    # Pick a current timestamp whose signature holds "+" and "/": both must survive the URL.
    now = int(time.time() * 1000)
    stamp = next(t for t in range(now, now + 10_000) if {"%2B", "%2F"} <= set(_escapes(secret, t)))
    channel = DingTalkRobotChannel(clock_ms=lambda: stamp)
    url = f"{providers.base}/robot/send?access_token=tok"
    try:
        receipt = await channel.send(outgoing("dingtalk", url, secret=providers.dingtalk_secret))
    finally:
        await channel.aclose()
    assert receipt == "ok"
    [req] = providers.requests
    assert req.query["access_token"] == "tok"
    ts = int(req.query["timestamp"])
    assert ts == stamp
    # The sign went over the wire exactly as dingtalk_sign() URL-encodes it.
    assert f"sign={dingtalk_sign(providers.dingtalk_secret, ts)}" in req.raw_query
    assert req.body["msgtype"] == "markdown"
    assert req.body["markdown"]["title"] == SUBJECT
    text = req.body["markdown"]["text"]
    assert text.startswith(f"### {SUBJECT}")
    assert TEXT in text
    assert f"[查看详情]({LINK})" in text
    assert req.headers["X-Xinfang-Delivery"] == "dlv-0001"


async def test_dingtalk_wrong_secret_is_rejected_permanently(providers: FakeProviders) -> None:
    providers.dingtalk_secret = "SEC-right"
    channel = DingTalkRobotChannel()
    url = f"{providers.base}/robot/send?access_token=tok"
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("dingtalk", url, secret="SEC-wrong"))
    finally:
        await channel.aclose()
    assert info.value.permanent is True
    assert "310000" in str(info.value)
    assert "timestamp" in providers.requests[0].query  # it was signed, just with the wrong key


async def test_dingtalk_unsigned_and_too_fast_is_transient(providers: FakeProviders) -> None:
    providers.dingtalk_reply = (200, {"errcode": 130101, "errmsg": "send too fast"})
    channel = DingTalkRobotChannel()
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("dingtalk", f"{providers.base}/robot/send?access_token=t"))
    finally:
        await channel.aclose()
    assert info.value.permanent is False
    assert providers.requests[0].query == {"access_token": "t"}  # no secret, no signature


def _escapes(secret: str, ts: int) -> list[str]:
    sign = dingtalk_sign(secret, ts)
    return [sign[i : i + 3] for i, c in enumerate(sign) if c == "%"]


async def test_dingtalk_signs_with_the_current_time(providers: FakeProviders) -> None:
    providers.dingtalk_secret = "SEC-now"
    channel = DingTalkRobotChannel()
    try:
        for _ in range(5):  # several real signatures, whatever characters they contain
            await channel.send(
                outgoing("dingtalk", f"{providers.base}/robot/send", secret="SEC-now")
            )
    finally:
        await channel.aclose()
    for req in providers.requests:
        assert abs(int(req.query["timestamp"]) - time.time() * 1000) < 60_000


def test_dingtalk_sign_matches_documented_algorithm() -> None:
    secret, ts = "SECabc", 1_700_000_000_000
    mac = hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
    raw = base64.b64encode(mac).decode()
    encoded = dingtalk_sign(secret, ts)
    assert encoded == raw.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    assert not set("+/=") & set(encoded)


async def test_sms_sends_template_params_and_bearer_key(providers: FakeProviders) -> None:
    providers.sms_key = "k-secret"
    channel = SmsGatewayChannel(f"{providers.base}/sms/send", api_key="k-secret")
    msg = outgoing(
        "sms",
        "13800138000",
        template_id="SMS_OVERDUE_01",
        params={"case": "XF-2025-000123", "days": "3"},
    )
    try:
        receipt = await channel.send(msg)
    finally:
        await channel.aclose()
    assert receipt == "biz-42"
    [req] = providers.requests
    assert req.headers["Authorization"] == "Bearer k-secret"
    assert req.headers["X-Xinfang-Delivery"] == "dlv-0001"
    assert req.body == {
        "phone": "13800138000",
        "sign_name": "信访",
        "template_id": "SMS_OVERDUE_01",
        "params": {"case": "XF-2025-000123", "days": "3"},
        "text": TEXT,
        "delivery_id": "dlv-0001",
    }


async def test_sms_numeric_ok_code_is_success(providers: FakeProviders) -> None:
    providers.sms_reply = (200, {"code": 0, "msg": "sent"})
    channel = SmsGatewayChannel(f"{providers.base}/sms/send")
    try:
        assert await channel.send(outgoing("sms", "13800138000")) == "sent"
    finally:
        await channel.aclose()
    assert "Authorization" not in providers.requests[0].headers


async def test_sms_wrong_key_is_permanent(providers: FakeProviders) -> None:
    providers.sms_key = "k-secret"
    channel = SmsGatewayChannel(f"{providers.base}/sms/send", api_key="k-stale")
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("sms", "13800138000"))
    finally:
        await channel.aclose()
    assert info.value.permanent is True
    assert "401" in str(info.value) and "bad api key" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "permanent", "fragment"),
    [
        (
            (200, {"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "号码格式错误"}),
            True,
            "号码格式错误",
        ),
        ((200, {"code": "isv.BUSINESS_LIMIT_CONTROL", "message": "触发流控"}), False, "触发流控"),
        ((200, "<html>gateway portal</html>"), True, "gateway portal"),
        ((500, {"code": "ERR", "message": "internal"}), False, "internal"),
        ((429, {"code": "ERR", "message": "slow down"}), False, "slow down"),
    ],
)
async def test_sms_gateway_errors_carry_its_message(
    providers: FakeProviders, reply: tuple[int, Any], permanent: bool, fragment: str
) -> None:
    providers.sms_reply = reply
    channel = SmsGatewayChannel(f"{providers.base}/sms/send")
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("sms", "13800138000"))
    finally:
        await channel.aclose()
    assert info.value.permanent is permanent
    assert fragment in str(info.value)


async def test_sms_bad_phone_is_permanent_without_a_request(providers: FakeProviders) -> None:
    channel = SmsGatewayChannel(f"{providers.base}/sms/send")
    try:
        with pytest.raises(DeliveryError) as info:
            await channel.send(outgoing("sms", "call me maybe"))
    finally:
        await channel.aclose()
    assert info.value.permanent is True
    assert providers.requests == []


async def test_http_unreachable_is_transient_and_bad_url_permanent() -> None:
    channel = WeComRobotChannel(timeout=3.0)
    try:
        with pytest.raises(DeliveryError) as down:
            await channel.send(
                outgoing("wecom", f"http://127.0.0.1:{free_port()}/cgi-bin/webhook/send")
            )
        with pytest.raises(DeliveryError) as bad:
            await channel.send(outgoing("wecom", "ftp://127.0.0.1/robot"))
    finally:
        await channel.aclose()
    assert down.value.permanent is False
    assert bad.value.permanent is True


def test_outgoing_rejects_unknown_channel_and_level() -> None:
    with pytest.raises(ValueError):
        outgoing("fax", "x")
    with pytest.raises(ValueError):
        outgoing("sms", "13800138000", level="orange")


async def test_every_adapter_is_a_channel() -> None:
    adapters: list[Channel] = [
        SmtpChannel("127.0.0.1", 25, SENDER),
        WeComRobotChannel(),
        DingTalkRobotChannel(),
        SmsGatewayChannel("http://127.0.0.1:1/sms/send"),
    ]
    assert [a.name for a in adapters] == ["email", "wecom", "dingtalk", "sms"]
    for a in adapters:
        await a.aclose()
        await a.aclose()  # idempotent
