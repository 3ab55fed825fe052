"""Notify's pure parts: templates for every message in both locales, the directory (who gets
what), quiet hours, org scoping of dashboards, and timestamps stored as UTC."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from xinfang_notify import directory
from xinfang_notify.delivery.service import quiet_until
from xinfang_notify.notifications.messages import compose
from xinfang_notify.notifications.render import Renderer
from xinfang_notify.notifications.service import visible_to
from xinfang_shared.db import AwareDateTime, create_engine
from xinfang_shared.events import (
    AlertEscalated,
    CaseLinked,
    CaseStatusChanged,
    EmergingAlert,
    EmergingMember,
    RepeatWaveAlert,
    SkipLevelAlert,
)
from xinfang_shared.org import default_tree
from xinfang_shared.timeutil import SHANGHAI

TREE = default_tree()
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

SAMPLES = [
    EmergingAlert(
        case_id="c",
        case_number="339922-2026-000007",
        alert_id="a",
        place_code="339922101201",
        place_name="西岗村",
        category="land_requisition",
        category_name="土地征收补偿",
        petitioners=5,
        threshold=5,
        window_start=NOW,
        window_end=NOW + timedelta(hours=24),
        members=[EmergingMember(case_id="c", case_number="339922-2026-000007")],
        office_code="339922101-xfb",
        responsible_code="339922-zrzy",
        raised_at=NOW,
    ),
    RepeatWaveAlert(
        case_id="c",
        case_number="339922-2026-000001",
        arrivals=3,
        window_days=7,
        latest_case_number="339922-2026-000009",
        holder_code="339922-zrzy",
        supervising_code="339922-xfj",
        raised_at=NOW,
    ),
    AlertEscalated(
        case_id="c",
        case_number="339922-2026-000002",
        alert_id="c",
        kind="collective",
        title="集体访预警：7人",
        from_unit_code="339922",
        to_unit_code="339900",
        to_unit_name="江临市",
        escalation=1,
        raised_at=NOW,
        escalated_at=NOW,
    ),
    SkipLevelAlert(
        case_id="c",
        case_number="n",
        receiving_office_code="339900",
        receiving_office_name="江临市信访局",
        responsible_code="339922101-zf",
        responsible_name="清河镇人民政府",
        levels_skipped=2,
        raised_at=NOW,
    ),
    CaseLinked(
        case_id="c",
        case_number="n2",
        linked_case_id="o",
        linked_case_number="n1",
        match="重复信访",
        similarity=0.4,
        repeat_count=2,
        receiving_office_code="339922",
        holder_code="339922-zrzy",
        linked_at=NOW,
    ),
]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.TYPE)
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_message_renders_in_both_locales(event: object, locale: str) -> None:
    renderer = Renderer()
    msgs = compose(event, TREE)  # type: ignore[arg-type]
    assert msgs
    for m in msgs:
        title, body = renderer.render(m.kind, {**m.ctx, "link": "http://x"}, locale)
        assert title and body and "{{" not in body
        assert event.case_number in title + body  # type: ignore[attr-defined]


def test_petitioner_templates_and_fallback_to_english() -> None:
    renderer = Renderer()
    contact = {
        "name": "刘某",
        "case_number": "339922-2026-000003",
        "query_code": "ABCD2345EF",
        "office_name": "清河县信访局",
    }
    e = CaseStatusChanged(
        case_id="c",
        case_number="339922-2026-000003",
        old_status="accepted",
        new_status="extended",
        changed_at=NOW,
        actor="x",
        note="延期30日：需现场勘测",
    )
    for kind in (
        "petitioner_receipt",
        "petitioner_accepted",
        "petitioner_not_accepted",
        "petitioner_extended",
        "petitioner_replied",
    ):
        title, body = renderer.render(
            kind, {"e": e, "c": contact, "link": "http://i/cx/ABCD2345EF"}
        )
        assert "刘某" in body and "339922-2026-000003" in body
    assert (
        "需现场勘测"
        in renderer.render("petitioner_extended", {"e": e, "c": contact, "link": None})[1]
    )
    # a locale without templates falls back to Chinese first
    title, _ = renderer.render("petitioner_receipt", {"e": e, "c": contact, "link": None}, "ug")
    assert title == "信访事项已登记"
    title, _ = renderer.render("petitioner_receipt", {"e": e, "c": contact, "link": None}, "en")
    assert title == "Your petition is registered"


def test_emerging_alert_goes_to_the_place_the_responsible_body_and_the_level_above() -> None:
    recipients = [m.recipient for m in compose(SAMPLES[0], TREE)]
    assert recipients == [
        "339922101-xfb",
        "339922101:leaders",
        "339922-zrzy",
        "339922:leaders",
        "339922-xfj",
    ]


def test_the_demo_directory_is_valid_and_resolves_roles_and_subscriptions() -> None:
    d = directory.load(None, TREE)
    people, robots = d.resolve("339922:leaders", "urgent", TREE)
    ids = {p.id for p in people}
    # the county leader by role; the county duty desk and the city duty desk by subscription
    assert ids == {"qinghe-leader", "qinghe-xfj", "city-duty"}
    people, _ = d.resolve("339922-zrzy", "yellow", TREE)
    assert {p.id for p in people} == {"qinghe-zrzy"}  # reminders do not go to subscribers
    people, _ = d.resolve("339902:leaders", "urgent", TREE)
    assert "qinghe-xfj" not in {p.id for p in people}  # the neighbour's desk: not its subtree
    assert robots == []


def test_a_bad_directory_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "people:\n"
        "  - {id: a, name: A, unit: '999999', channels: [fax, email]}\n"
        "  - {id: a, name: B, unit: '339922', channels: [sms], subscribe: {levels: [loud]}}\n"
        "robots:\n  - {unit: '339922', kind: slack, url: 'ftp://x'}\n",
        encoding="utf-8",
    )
    with pytest.raises(directory.DirectoryError) as err:
        directory.load(path, TREE)
    text = " ".join(err.value.problems)
    for fragment in (
        "未知单位 999999",
        "未知渠道 fax",
        "无邮箱",
        "重复的 id a",
        "无手机号",
        "未知级别",
        "wecom or dingtalk",
        "http(s)",
    ):
        assert fragment in text, fragment
    path.write_text("people: [", encoding="utf-8")
    with pytest.raises(directory.DirectoryError, match="YAML"):
        directory.load(path, TREE)


def test_quiet_hours_span_midnight() -> None:
    at = lambda h, m=0: datetime(2026, 11, 23, h, m, tzinfo=SHANGHAI)  # noqa: E731
    assert quiet_until(at(23, 30), (22, 7)) == datetime(2026, 11, 24, 7, tzinfo=SHANGHAI)
    assert quiet_until(at(3), (22, 7)) == datetime(2026, 11, 23, 7, tzinfo=SHANGHAI)
    assert quiet_until(at(7), (22, 7)) is None and quiet_until(at(21, 59), (22, 7)) is None
    assert quiet_until(at(13), (12, 14)) == at(14)
    assert quiet_until(at(3), None) is None


def test_dashboards_see_their_own_unit_and_below_only() -> None:
    assert visible_to(TREE, "339922", "339922101-xfb")  # a township office of the county
    assert visible_to(TREE, "339922", "339922:leaders".split(":")[0])
    assert visible_to(TREE, "339900", "339922-zrzy")  # the city sees everything below
    assert not visible_to(TREE, "339902", "339922-zrzy")  # the neighbouring district does not
    assert not visible_to(TREE, "339922", "339900")  # nor does a county see the city's
    assert not visible_to(TREE, "339922", None)
    assert visible_to(TREE, None, None)  # no org: the whole log (admin)


async def test_timestamps_are_stored_as_utc_whatever_their_zone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 't.db'}")
    meta = sa.MetaData()
    t = sa.Table(
        "t", meta, sa.Column("id", sa.String, primary_key=True), sa.Column("at", AwareDateTime())
    )
    local = datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
        await conn.execute(t.insert().values(id=str(uuid.uuid4()), at=local))
        later = await conn.execute(
            sa.select(t.c.at).where(t.c.at > datetime(2026, 11, 23, 22, 30, tzinfo=UTC))
        )
        [got] = later.scalars().all()
    await engine.dispose()
    assert got == local and got.tzinfo is not None
    assert date(2026, 11, 23) == got.astimezone(UTC).date()
