"""``xf-clock`` (``make clock-advance``) tells a person, in Chinese, the new business time and which
services confirmed it; ``--json`` keeps the machine-readable document for scripts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from xinfang_shared.clock_cli import advance_lines, show_lines, zh_duration

WALL = datetime(2026, 12, 1, 2, 15, tzinfo=UTC)  # 10:15 in Beijing
INTAKE, NOTIFY = "http://127.0.0.1:8001/healthz", "http://127.0.0.1:8004/healthz"


def health(service: str, offset: timedelta) -> dict[str, object]:
    return {
        "status": "ok",
        "service": service,
        "now": (WALL + offset).isoformat(),
        "clock_offset_s": offset.total_seconds(),
    }


def test_durations_read_as_days_hours_minutes() -> None:
    assert zh_duration(timedelta(days=12)) == "12 天"
    assert zh_duration(timedelta(days=1, hours=12, minutes=5)) == "1 天 12 小时 5 分钟"
    assert zh_duration(timedelta(minutes=61)) == "1 小时 1 分钟"
    assert zh_duration(timedelta(0)) == "0 分钟"


def test_advance_says_the_new_business_time_and_each_service_that_confirmed_it() -> None:
    offset = timedelta(days=13)
    lines = advance_lines(
        step=timedelta(days=12),
        offset=offset,
        wall=WALL,
        urls=[INTAKE, NOTIFY],
        confirmed={INTAKE: health("intake", offset), NOTIFY: health("notify", offset)},
        timeout=20,
    )
    assert lines[0] == (
        "时钟已拨快 12 天：业务时间现为 2026-12-14 10:15（北京时间）（比实际时间快 13 天）"
    )
    assert lines[1].startswith("  ✓ intake") and "127.0.0.1:8001" in lines[1]
    assert "已确认，业务时间 2026-12-14 10:15（北京时间）" in lines[1]
    assert lines[2].startswith("  ✓ notify") and "127.0.0.1:8004" in lines[2]
    assert lines[-1] == "全部 2 个服务已确认。"
    assert not any("{" in line for line in lines)  # no JSON for a person to read


def test_advance_names_the_service_that_did_not_confirm() -> None:
    offset = timedelta(hours=1)
    lines = advance_lines(
        step=offset,
        offset=offset,
        wall=WALL,
        urls=[INTAKE, NOTIFY],
        confirmed={INTAKE: health("intake", offset)},
        timeout=20,
    )
    assert any(line.startswith("  ✗ 127.0.0.1:8004  20 秒内未确认新时间") for line in lines)
    assert lines[-1] == "1 个服务未确认。"


def test_show_says_the_business_time() -> None:
    assert show_lines(timedelta(days=2), WALL) == [
        "当前业务时间 2026-12-03 10:15（北京时间），比实际时间快 2 天"
    ]
