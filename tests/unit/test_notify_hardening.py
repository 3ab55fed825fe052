"""Notify's pure rules behind the issue-13 fixes: the reminder schedule at the top of the tree,
one message per recipient, sentences without a doubled 。, robot markdown shown literally,
recipients by name, who signs for alerts (directory data), and ids a stream resumes from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from xinfang_notify import directory
from xinfang_notify.dashboard.views import safe_next
from xinfang_notify.delivery import reminders
from xinfang_notify.delivery.channels import (
    DingTalkRobotChannel,
    Outgoing,
    WeComRobotChannel,
    markdown_text,
)
from xinfang_notify.notifications.messages import Message, compose
from xinfang_notify.notifications.render import Renderer
from xinfang_notify.notifications.telling import _render
from xinfang_notify.notifications.views import parse_last_event_id
from xinfang_shared.events import CaseStatusChanged, CollectiveAlert, SupervisionOrderIssued
from xinfang_shared.org import default_tree

TREE = default_tree()
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
H = timedelta(hours=1)


def test_the_reminder_schedule_is_the_listed_hours_then_daily_up_to_the_cap() -> None:
    points = reminders.schedule([4, 1, 24], 24, 6)
    assert [p / H for p in points] == [1, 4, 24, 48, 72, 96]
    assert reminders.schedule([1, 4, 24], 24, 2) == (H, 4 * H)
    assert reminders.schedule([], 12, 2) == (12 * H, 24 * H)
    assert reminders.schedule([1], 24, 0) == ()


def test_points_missed_by_a_clock_jump_are_one_reminder_and_the_next_is_ahead() -> None:
    points = reminders.schedule([1, 4, 24], 24, 7)
    assert reminders.position(T0, T0 + 30 * timedelta(minutes=1), points) == 0
    assert reminders.next_point(T0, 0, points) == T0 + H
    passed = reminders.position(T0, T0 + 30 * H, points)  # 1 h, 4 h and 24 h all passed
    assert passed == 3 and reminders.next_point(T0, passed, points) == T0 + 48 * H
    passed = reminders.position(T0, T0 + 288 * H, points)  # twelve days: all of them
    assert passed == 7 and reminders.next_point(T0, passed, points) is None


def order(by: str, to: str, leader: str | None = None) -> SupervisionOrderIssued:
    return SupervisionOrderIssued(
        case_id="c",
        case_number="339922-2026-000001",
        order_id="o",
        issued_by=by,
        issued_by_name="清河县信访局",
        issued_to=to,
        issued_to_name="清河县信访局",
        deadline_label="办理期限",
        due_date=date(2026, 11, 20),
        feedback_due=date(2026, 11, 27),
        issued_at=T0,
        leader=leader,
    )


def test_an_order_issued_to_its_own_issuer_is_one_message_the_order() -> None:
    [msg] = compose(order("339922-xfj", "339922-xfj"), TREE)
    assert msg.recipient == "339922-xfj" and msg.kind == "order" and msg.level == "red"
    assert [m.recipient for m in compose(order("339922-xfj", "339922-zrzy"), TREE)] == [
        "339922-zrzy",
        "339922-xfj",
    ]
    long = "王" * 80  # a leader's name longer than the log's column: still one recipient
    msgs = compose(order("339922-xfj", "339922-xfj", leader=long), TREE)
    assert [len(m.recipient) for m in msgs] == [10, 60]


def test_a_template_that_cannot_be_rendered_still_tells_the_person() -> None:
    from xinfang_notify.context import NotifyContext

    nc = NotifyContext(
        tree=TREE,
        directory=directory.Directory(),
        renderer=Renderer(),
        public_url="http://x",
        intake_public_url="http://y",
        ack_timeout=H,
    )
    broken = Message("339922-xfj", "red", "order", {})  # no event in the context
    title, body = _render(nc, broken, {"link": "http://x/?case=c"}, "339922-2026-000009")
    assert "339922-2026-000009" in title and "http://x/?case=c" in body


def test_text_that_ends_with_its_own_full_stop_gets_no_second_one() -> None:
    r = Renderer()
    alert = CollectiveAlert(
        case_id="c",
        case_number="339922-2026-000002",
        persons=7,
        threshold=5,
        receiving_office_code="339922",
        receiving_office_name="清河县信访局",
        matter_location_code="339922101201",
        summary="西岗村村民反映征地补偿款未足额发放。",
        raised_at=T0,
    )
    _, body = r.render("collective", {"e": alert, "place": "清河镇西岗村"})
    assert "未足额发放。请领导" in body and "。。" not in body
    changed = CaseStatusChanged(
        case_id="c",
        case_number="339922-2026-000002",
        old_status="routed",
        new_status="not_accepted",
        changed_at=T0,
        actor="x",
        note="已经通过复查程序处理！",
        next_step="可依法申请复核。",
    )
    contact = {"name": "刘某", "case_number": "339922-2026-000002"}
    for kind in ("petitioner_not_accepted", "petitioner_extended", "petitioner_accepted"):
        _, body = r.render(kind, {"e": changed, "c": contact, "link": None})
        assert "。。" not in body and "！。" not in body, (kind, body)


def outgoing(channel: str, text: str) -> Outgoing:
    return Outgoing(
        channel=channel,
        address="http://robot",
        subject="集体访预警：[点我](http://evil.example)",
        text=text,
        level="urgent",
        case_number="339922-2026-000003",
        link="http://127.0.0.1:8004/?case=c",
    )


@pytest.mark.parametrize(
    "render",
    [
        lambda m: WeComRobotChannel.content(m),
        lambda m: DingTalkRobotChannel.markdown(m),
    ],
    ids=["wecom", "dingtalk"],
)
def test_robot_markdown_shows_text_literally_and_keeps_our_own_link(render: object) -> None:
    text = (
        '事由：![x](http://evil.example/a.png) **急** <font color="info">好</font>\n> 引用\n- 列表'
    )
    content = render(outgoing("wecom", text))  # type: ignore[operator]
    assert content.endswith("[查看详情](http://127.0.0.1:8004/?case=c)")
    body = content.removesuffix("[查看详情](http://127.0.0.1:8004/?case=c)")
    for syntax in ("](", "![", "**", '<font color="info"', "\n>", "\n-", "http://evil"):
        assert syntax not in body, (syntax, body)
    assert "急" in body and "引用" in body and "evil.example" in body


def test_markdown_text_keeps_plain_chinese_and_case_numbers() -> None:
    plain = "清河县信访局：信访件 339922-2026-000001（第1次提级），请签收。"
    assert markdown_text(plain) == plain


def test_recipients_read_as_unit_names_and_roles() -> None:
    d = directory.load(None, TREE)
    assert d.recipient_name("339922:leaders", TREE) == "清河县领导"
    assert d.recipient_name("339922-xfj", TREE) == "清河县信访局"
    assert d.recipient_name("339922-zrzy", TREE) == "清河县自然资源和规划局"
    assert d.recipient_name("339922101", TREE) == "清河镇"
    assert d.recipient_name("leader:qinghe-leader", TREE) == "包案领导 王县长"
    assert d.recipient_name("leader:李某", TREE) == "包案领导 李某"
    assert d.recipient_name("999999:leaders", TREE) == "999999领导"


def test_who_signs_for_alerts_is_directory_data_per_unit_and_below(tmp_path: Path) -> None:
    demo = directory.load(None, TREE)
    assert demo.signs_for("leader", "339922", TREE) and demo.signs_for("supervisor", "339900", TREE)
    assert not demo.signs_for("registrar", "339922", TREE)
    assert not demo.signs_for("handler", "339922-zrzy", TREE)
    doc = {
        "people": [],
        "acknowledge": {"roles": ["leader"], "units": {"339922": ["leader", "registrar"]}},
    }
    d = directory.parse(doc, TREE)
    assert d.signs_for("registrar", "339922101", TREE)  # a township of that county
    assert d.signs_for("registrar", "339922-xfj", TREE)
    assert not d.signs_for("registrar", "339902", TREE)
    assert not d.signs_for("supervisor", "339900", TREE)
    with pytest.raises(directory.DirectoryError) as bad:
        directory.parse(
            {"acknowledge": {"roles": ["boss"], "units": {"000000": ["leader"], "339922": "x"}}},
            TREE,
        )
    text = str(bad.value)
    assert "未知角色" in text and "000000" in text and "339922" in text


@pytest.mark.parametrize(
    ("raw", "seq"),
    [
        ("0", 0),
        ("42", 42),
        (str(2**31 - 1), 2**31 - 1),  # the log's ids are an INTEGER column
        (str(2**31), None),
        (str(2**63), None),
        ("²", None),
        ("٣", None),  # an Arabic-Indic digit
        ("-1", None),
        ("", None),
        (None, None),
    ],
)
def test_a_last_event_id_that_is_no_id_is_ignored(raw: str | None, seq: int | None) -> None:
    assert parse_last_event_id(raw) == seq


@pytest.mark.parametrize("target", ["/\x00", "/a\nb", "//evil", "http://evil", "/\u202eabc"])
def test_after_login_only_a_clean_local_path(target: str) -> None:
    assert safe_next(target) == "/"
    assert safe_next("/?org=339922") == "/?org=339922"
