"""The supervisor's and leader's forms, pure: what each form sends the APIs, and how what the
APIs answer reads (days left, suggestions, directory entries), with no raw codes."""

from __future__ import annotations

from xinfang_workbench.leader import forms as lf
from xinfang_workbench.supervise import forms as sf

DIRECTORY = [
    {
        "username": "qinghe.leader",
        "name": "清河县分管信访工作的副县长",
        "role": "leader",
        "role_label": "包案领导",
        "org_code": "339922",
        "org_name": "清河县",
    }
]


def test_due_views_ask_the_worklist_for_overdue_today_and_the_week() -> None:
    assert sf.due_view("overdue").filters == {"overdue": "true"}
    assert sf.due_view("today").filters == {"due_within": 0}
    assert sf.due_view("week").filters == {"due_within": 7}
    assert sf.due_view("nonsense").key == "overdue" and sf.due_view(None).label == "已超期"


def test_page_numbers_out_of_range_are_the_first_page() -> None:
    assert [sf.page_number(x) for x in ("3", "", "0", "-2", "x", "999999")] == [3, 1, 1, 1, 1, 1]


def test_days_read_as_a_person_says_them_and_colour_by_state() -> None:
    assert sf.days_text({"days_left": -3, "state": "late"}) == "已超期3天"
    assert sf.days_text({"days_left": 0, "state": "warn"}) == "今天到期"
    assert sf.days_text({"days_left": 5, "state": "ok"}) == "还剩5天"
    assert sf.days_text(None) == "无未到期的期限"
    assert sf.deadline_class({"state": "late"}) == "late"
    assert sf.deadline_class({"state": "<script>"}) == "ok" and sf.deadline_class(None) == "ok"


def test_order_and_reassign_bodies_are_what_was_typed_trimmed() -> None:
    assert sf.order_body({"reason": " 请报告进度 ", "feedback_due": "2026-12-28", "csrf": "x"}) == {
        "reason": "请报告进度",
        "feedback_due": "2026-12-28",
    }
    assert sf.order_body({"reason": ""}) == {"reason": "", "feedback_due": None}
    assert sf.reassign_body({"to_department_code": "339922-zrzy", "reason": " 属征地 "}) == {
        "to_department_code": "339922-zrzy",
        "reason": "属征地",
    }


def test_departments_read_by_name_and_kind() -> None:
    found = [{"code": "339922-zrzy", "name": "清河县自然资源和规划局", "kind_label": "职能部门"}]
    assert sf.department_options(found) == [("339922-zrzy", "清河县自然资源和规划局（职能部门）")]


def test_a_leader_is_an_account_from_the_directory_never_a_typed_name() -> None:
    picked = sf.leader_body({"leader_username": "qinghe.leader"}, DIRECTORY)
    assert picked.body == {
        "leader": "清河县分管信访工作的副县长",
        "leader_username": "qinghe.leader",
    }
    assert sf.leader_body({"leader_username": ""}, DIRECTORY).errors == {
        "leader_username": "请从名单中选择包案领导"
    }
    outsider = sf.leader_body({"leader_username": "city.leader"}, DIRECTORY)
    assert outsider.body is None and "不在本辖区" in outsider.errors["leader_username"]
    assert sf.leader_options(DIRECTORY) == [
        ("qinghe.leader", "清河县分管信访工作的副县长 · 清河县")
    ]


def test_triage_suggestions_by_name_with_percentages() -> None:
    s = [
        {"category": "land_requisition", "category_name": "土地征收补偿", "probability": 0.3},
        {"category": "x", "category_name": "", "probability": 0.1},
        {"category": "village_affairs", "category_name": "村务管理", "probability": 0.25},
    ]
    assert sf.suggestion_text(s) == "土地征收补偿 30%、村务管理 25%"


def test_allowed_is_the_apis_answer() -> None:
    case = {"allowed_actions": [{"action": "order", "label": "督办"}]}
    assert sf.allowed(case, "order") and not sf.allowed(case, "leader")
    assert not sf.allowed({"allowed_actions": None}, "order")


def test_signing_sends_the_note_or_none_and_checks_its_length() -> None:
    assert lf.ack_body({"note": " 已安排接待 "}) == {"note": "已安排接待"}
    assert lf.ack_body({"note": "  "}) == {"note": None}
    assert lf.ack_errors({"note": "字" * 501}) == {"note": "处置意见不能超过500个字"}
    assert lf.ack_errors({"note": "字" * 500}) == {}


def test_alerts_split_into_waiting_and_signed_newest_first() -> None:
    alerts = [
        {"alert_id": "a", "raised_at": "2026-12-01T01:00:00Z", "acknowledged_at": None},
        {"alert_id": "b", "raised_at": "2026-12-02T01:00:00Z", "acknowledged_at": None},
        {"alert_id": "c", "raised_at": "2026-12-01T01:00:00Z", "acknowledged_at": "2026-12-03"},
    ]
    waiting, signed = lf.split_alerts(alerts)
    assert [a["alert_id"] for a in waiting] == ["b", "a"]
    assert [a["alert_id"] for a in signed] == ["c"]
    assert lf.alert_kind("collective") == "集体访预警" and lf.alert_kind("??") == "预警"


def test_reveal_sends_the_reason_for_the_audit() -> None:
    assert lf.reveal_body({"reason": " 经批准查阅，文号001 "}) == {"reason": "经批准查阅，文号001"}
