"""Demo secrets only in demo mode (issue #13 item 7), token time on the wall clock with
sub-second issue times (item 12), the login throttle's pure policy (item 6) and the platform's
pure text and integer checks (item 8)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app as intake_app
from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app as notify_app
from xinfang_reports.config import ReportsSettings
from xinfang_reports.main import create_app as reports_app
from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app as routing_app
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.revocation import Revocations
from xinfang_shared.auth.security import Principal, issue_token, read_token
from xinfang_shared.auth.throttle import DEFAULT_POLICY, next_delay
from xinfang_shared.settings import DemoSecretsRefused
from xinfang_shared.web import int_out_of_range, query_problems
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app as supervision_app

SECRET = "unit-test-secret-0123456789-abcdefghij"
REAL_KEY = "q3JYm0yqAv9cVrB6h8q1ItdJ4J2nM5tBv7y6c4kWm1E="


def _refusal(make: Any) -> str:
    with pytest.raises(DemoSecretsRefused) as exc:
        make()
    return str(exc.value)


def test_outside_demo_mode_no_service_starts_on_a_public_demo_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("XF_DEMO", "XF_AUTH_SECRET", "XF_INFORMANT_KEY", "XF_ID_HASH_SALT"):
        monkeypatch.delenv(var, raising=False)
    message = _refusal(lambda: intake_app(IntakeSettings(clock_mode="system")))
    for var in ("XF_AUTH_SECRET", "XF_INFORMANT_KEY", "XF_ID_HASH_SALT", "XF_DEMO"):
        assert var in message
    assert "演示" in message and "demo" in message
    assert "XF_ID_HASH_SALT" in _refusal(lambda: routing_app(RoutingSettings()))
    assert "XF_AUTH_SECRET" in _refusal(lambda: supervision_app(SupervisionSettings()))
    assert "XF_AUTH_SECRET" in _refusal(lambda: notify_app(NotifySettings()))
    assert "XF_AUTH_SECRET" in _refusal(lambda: reports_app(ReportsSettings()))
    # set to the demo value explicitly is the same as unset
    monkeypatch.setenv("XF_AUTH_SECRET", SupervisionSettings().auth_secret)
    assert "XF_AUTH_SECRET" in _refusal(lambda: supervision_app(SupervisionSettings()))
    # the secrets set: it starts; only the ones still on demo values are named
    monkeypatch.setenv("XF_AUTH_SECRET", SECRET)
    monkeypatch.setenv("XF_ID_HASH_SALT", "a-salt-of-our-own-2026")
    assert supervision_app(SupervisionSettings()) is not None
    assert routing_app(RoutingSettings()) is not None
    message = _refusal(lambda: intake_app(IntakeSettings()))
    assert "XF_INFORMANT_KEY" in message and "XF_AUTH_SECRET" not in message
    monkeypatch.setenv("XF_INFORMANT_KEY", REAL_KEY)
    assert intake_app(IntakeSettings()) is not None


def test_demo_mode_is_an_explicit_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XF_AUTH_SECRET", "XF_INFORMANT_KEY", "XF_ID_HASH_SALT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XF_DEMO", "true")
    assert intake_app(IntakeSettings()) is not None
    with pytest.raises(DemoSecretsRefused):
        intake_app(IntakeSettings(XF_DEMO=False, clock_mode="manual"))


def test_tokens_are_checked_on_the_wall_clock_by_default() -> None:
    p = Principal("desk", "赵敏", Role.REGISTRAR, "339922102")
    wall = datetime.now(UTC)
    token = issue_token(p, secret=SECRET, ttl_s=60, now=wall)
    assert read_token(token, secret=SECRET).username == "desk"
    old = issue_token(p, secret=SECRET, ttl_s=60, now=wall - timedelta(minutes=2))
    with pytest.raises(Exception, match="expired"):
        read_token(old, secret=SECRET)


def test_a_token_issued_just_after_a_revocation_passes_in_the_same_second() -> None:
    p = Principal("desk", "赵敏", Role.REGISTRAR, "339922102")
    second = datetime(2026, 3, 2, 8, 0, 0, tzinfo=UTC)
    before = read_token(
        issue_token(p, secret=SECRET, ttl_s=60, now=second + timedelta(milliseconds=100)),
        secret=SECRET,
        now=second,
    )
    after = read_token(
        issue_token(p, secret=SECRET, ttl_s=60, now=second + timedelta(milliseconds=900)),
        secret=SECRET,
        now=second,
    )
    revs = Revocations()
    revs.note("desk", second + timedelta(milliseconds=500))
    assert revs.revoked(before)
    assert not revs.revoked(after)


def test_the_throttle_delay_doubles_up_to_its_cap() -> None:
    rule = DEFAULT_POLICY.pair
    delays = []
    delay = 0.0
    for attempts in range(1, 20):
        delay = next_delay(rule, attempts=attempts, previous=delay)
        delays.append(delay)
    free = rule.free
    assert delays[: free - 1] == [0.0] * (free - 1)
    assert delays[free - 1] == rule.base_delay.total_seconds()
    assert delays[free] == 2 * delays[free - 1]
    assert max(delays) == rule.max_delay.total_seconds() == delays[-1]


def test_query_strings_with_control_characters_or_huge_integers_are_named() -> None:
    assert query_problems(b"a=1&b=ok") == []
    [problem] = query_problems(b"a=1&name=x%00y")
    assert problem["field"] == "name" and problem["code"] == "control_character"
    assert query_problems(b"k%01ey=1")[0]["code"] == "control_character"
    assert int_out_of_range(str(2**63)) and int_out_of_range(str(-(2**63) - 1))
    assert not int_out_of_range(str(2**63 - 1)) and not int_out_of_range("abc")
    assert not int_out_of_range("12345678901234567890123abc")


def test_issue_times_keep_sub_second_precision() -> None:
    p = Principal("desk", "赵敏", Role.REGISTRAR, "339922102")
    now = datetime.now(UTC)
    got = read_token(issue_token(p, secret=SECRET, ttl_s=60, now=now), secret=SECRET)
    assert abs(got.issued_at - now.timestamp()) < 0.002
    assert time.time() - got.issued_at < 5
