from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from xinfang_shared.clock import ManualClock, SystemClock, build_clock, decode_offset, encode_offset
from xinfang_shared.clock_cli import parse_duration
from xinfang_shared.settings import ClockMode, CommonSettings
from xinfang_shared.timeutil import end_of_local_day, local_date, start_of_local_day


async def test_manual_clock_moves_forward_and_tells_listeners() -> None:
    clock = ManualClock()
    seen: list[timedelta] = []

    async def listener() -> None:
        seen.append(clock.offset)

    clock.on_change(listener)
    before = clock.now()
    assert await clock.set_offset(timedelta(days=12))
    assert clock.now() - before >= timedelta(days=12)
    assert seen == [timedelta(days=12)]


async def test_manual_clock_never_goes_back() -> None:
    clock = ManualClock(timedelta(days=5))
    assert not await clock.set_offset(timedelta(days=1))
    assert clock.offset == timedelta(days=5)


def test_clock_is_timezone_aware_and_built_from_mode() -> None:
    assert SystemClock().now().tzinfo is not None
    assert isinstance(build_clock(ClockMode.MANUAL), ManualClock)
    assert isinstance(build_clock(ClockMode.SYSTEM), SystemClock)


def test_offset_message_roundtrip_and_garbage() -> None:
    assert decode_offset(encode_offset(timedelta(days=12))) == timedelta(days=12)
    assert decode_offset(b"garbage") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12d", timedelta(days=12)),
        ("36h", timedelta(hours=36)),
        ("1d12h30m", timedelta(days=1, hours=12, minutes=30)),
    ],
)
def test_duration_parsing(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_duration_parsing_rejects_nonsense() -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_duration("soon")


def test_day_boundaries_are_shanghai_days() -> None:
    # 17:00 UTC on 1 March is already 2 March in Shanghai (UTC+8).
    assert local_date(datetime(2026, 3, 1, 17, 0, tzinfo=UTC)) == date(2026, 3, 2)
    assert start_of_local_day(date(2026, 3, 2)) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert end_of_local_day(date(2026, 3, 2)) == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)


def test_settings_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XF_KAFKA_BOOTSTRAP_SERVERS", "XF_CLOCK_MODE", "XF_ORG_SCOPE"):
        monkeypatch.delenv(var, raising=False)
    s = CommonSettings()
    assert s.bootstrap_list == ["127.0.0.1:9092"]
    assert s.clock_mode is ClockMode.SYSTEM


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XF_KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9092")
    monkeypatch.setenv("XF_CLOCK_MODE", "manual")
    monkeypatch.setenv("XF_ORG_SCOPE", "339922")
    s = CommonSettings()
    assert s.bootstrap_list == ["k1:9092", "k2:9092"]
    assert s.clock_mode is ClockMode.MANUAL
    assert s.org_scope == "339922"


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("XF_KAFKA_BOOTSTRAP_SERVERS", "no-port"),
        ("XF_ORG_SCOPE", "12ab"),
        ("XF_CLOCK_MODE", "fast"),
    ],
)
def test_bad_settings_are_refused(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError):
        CommonSettings()


def test_service_database_urls_are_separate(monkeypatch: pytest.MonkeyPatch) -> None:
    from xinfang_intake.config import IntakeSettings
    from xinfang_notify.config import NotifySettings

    monkeypatch.setenv("XF_INTAKE_DATABASE_URL", "postgresql+asyncpg://u@db/xf_intake")
    assert IntakeSettings().database_url.endswith("/xf_intake")
    assert NotifySettings().database_url.endswith("notify.db")
    assert IntakeSettings().port == 8001 and NotifySettings().port == 8004
