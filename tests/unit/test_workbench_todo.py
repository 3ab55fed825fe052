"""待办's pure part (services/workbench/.../todo/forms.py): the list's address → the worklist's
parameters, each action form → the body its API takes, days left → their colour, and the pages
rendered from API answers (what a clerk reads: Chinese, no raw codes, sealed stays sealed)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from xinfang_shared.org import default_tree
from xinfang_workbench.pages import Pages
from xinfang_workbench.todo import forms


def q(**params: str) -> forms.ListQuery:
    statuses = params.pop("status", "")
    return forms.list_query(params, [s for s in statuses.split(",") if s])


def test_filters_sort_and_page_pass_through_to_the_worklist() -> None:
    query = q(
        status="accepted,extended,bogus",
        category="土地征收补偿",
        place="339922101",
        due_within="7",
        sort="-received",
        page="3",
    )
    assert forms.worklist_params(query) == {
        "status": ["accepted", "extended"],
        "category": "土地征收补偿",
        "place": "339922101",
        "due_within": 7,
        "sort": "-received",
        "page": 3,
        "size": forms.PAGE_SIZE,
    }


def test_nonsense_in_the_address_is_dropped_not_sent() -> None:
    params = forms.worklist_params(q(sort="drop table", page="-4", due_within="soon"))
    assert params["sort"] == "due"
    assert params["page"] == 1
    assert params["due_within"] is None
    assert forms.worklist_params(q(page="99999999999"))["page"] == forms.MAX_PAGE


@pytest.mark.parametrize("text", ["339922-2026-000017", "339922-2026", "339922-", "339922-2026-00"])
def test_a_case_number_or_its_prefix_is_searched_as_a_case_number(text: str) -> None:
    query = q(q=text)
    assert not forms.needs_record_search(query)
    params = forms.worklist_params(query)
    assert params["case_number"] == text
    assert "case_ids" not in params


@pytest.mark.parametrize("text", ["赵四", "13905710099", "0571-88886666", "补偿款 未到位"])
def test_anything_else_goes_to_the_record_search_and_its_hits_become_case_ids(text: str) -> None:
    query = q(q=text)
    assert forms.needs_record_search(query)
    params = forms.worklist_params(query, ["a1", "b2"])
    assert params["case_ids"] == "a1,b2"
    assert "case_number" not in params


def test_closed_cases_are_included_only_when_asked() -> None:
    assert "open" not in forms.worklist_params(q())
    assert forms.worklist_params(q(closed="1"))["open"] == "false"


def test_sort_links_toggle_and_keep_the_filters() -> None:
    query = q(category="土地征收补偿", sort="received", page="2")
    assert (
        query.sort_href("received")
        == "/todo?category=%E5%9C%9F%E5%9C%B0%E5%BE%81%E6%94%B6%E8%A1%A5%E5%81%BF&sort=-received"
    )
    assert "sort=case_number" in query.sort_href("case_number")
    assert query.sort_mark("received") == "▲"
    assert "page=3" in query.href(page=3)
    assert forms.pages(41, 9) == {"page": 3, "last": 3, "total": 41}


@pytest.mark.parametrize(
    ("days_left", "share_left", "expected"),
    [(10, 0.5, "ok"), (3, 0.2, "warn"), (0, 0.0, "warn"), (-1, 0.0, "late"), (5, 0.25, "ok")],
)
def test_days_left_colour(days_left: int, share_left: float, expected: str) -> None:
    assert forms.days_class({"days_left": days_left, "share_left": share_left}) == expected


def test_the_apis_own_state_wins_and_days_read_in_chinese() -> None:
    assert forms.days_class({"days_left": 9, "share_left": 0.9, "state": "late"}) == "late"
    assert forms.days_class(None) == ""
    assert forms.days_text(-3) == "已超期 3 天"
    assert forms.days_text(0) == "今日到期"
    assert forms.days_text(12) == "剩 12 天"


def test_case_page_deadlines_count_from_the_services_today() -> None:
    nxt = {"due_date": "2026-03-20", "days_left": 5}
    today = forms.service_today(nxt)
    assert today == date(2026, 3, 15)
    d = forms.deadline_days({"start_date": "2026-01-01", "due_date": "2026-03-17"}, today)
    assert d == {"days_left": 2, "cls": "warn", "text": "剩 2 天"}


def test_each_action_sends_only_its_own_fields() -> None:
    typed = {
        "csrf": "x",
        "reason": " 不属于信访事项 ",
        "days": "15",
        "outcome": "予以支持",
        "facts": "查明",
        "reasons": "理由",
        "legal_basis": "条例",
    }
    assert forms.action_body("accept", typed) == {}
    assert forms.action_body("decline", typed) == {"reason": "不属于信访事项"}
    assert forms.action_body("request_extension", typed) == {"days": 15, "reason": "不属于信访事项"}
    assert forms.action_body("reply", typed) == {
        "outcome": "予以支持",
        "facts": "查明",
        "reasons": "理由",
        "legal_basis": "条例",
    }
    assert forms.feedback_body({"text": " 已整改 "}) == {"text": "已整改"}
    assert forms.objection_body({"reason": "不属本单位职责"}) == {"reason": "不属本单位职责"}


def test_a_missing_required_field_is_sent_for_the_api_to_name() -> None:
    # the API's 422 names the field; the workbench does not invent its own rule
    assert forms.action_body("request_extension", {"days": "", "reason": ""}) == {
        "days": None,
        "reason": "",
    }
    assert forms.action_body("request_extension", {"days": "十五", "reason": "x"})["days"] == "十五"
    # the leader's approval takes the request's days and reason when left empty
    assert forms.action_body("extend", {"days": "", "reason": ""}) == {}


def test_endpoints_of_the_steps() -> None:
    assert forms.api_path("c1", "accept") == ("supervision", "/api/v1/cases/c1/actions/accept")
    assert forms.api_path("c1", "request_extension") == (
        "supervision",
        "/api/v1/cases/c1/extension-request",
    )
    with pytest.raises(KeyError):
        forms.api_path("c1", "order")


def test_only_the_allowed_steps_with_a_form_here_are_offered() -> None:
    allowed = [
        {"action": "accept", "label": "受理"},
        {"action": "order", "label": "督办"},  # the oversight forms' (case_oversight.html)
        {"action": "feedback:o-1", "label": "督办反馈"},
    ]
    got = forms.offered(allowed)
    assert [(o.action, o.label, o.order_id) for o in got] == [
        ("accept", "受理", ""),
        ("feedback", "督办反馈", "o-1"),
    ]


def test_timeline_merges_hops_and_steps_in_time_order() -> None:
    hops = [
        {
            "routed_at": "2026-03-02T02:00:00+00:00",
            "action": "交办",
            "from_unit_name": "清河县信访局",
            "to_unit_name": "清河县自然资源和规划局",
            "reason": "属地",
            "actor": "系统",
        }
    ]
    history = [
        {
            "at": "2026-03-03T01:00:00Z",
            "action_label": "受理",
            "actor": "张三",
            "from_state": "routed",
            "to_state": "accepted",
            "note": None,
            "detail": None,
        },
        {
            "at": "2026-03-01T01:00:00Z",
            "action_label": "开案",
            "actor": "系统",
            "from_state": None,
            "to_state": "routed",
            "note": None,
            "detail": {"reason": "x"},
        },
    ]
    items = forms.timeline(hops, history)
    assert [i["title"] for i in items] == [
        "开案（待受理）",
        "交办：清河县信访局 → 清河县自然资源和规划局",
        "受理（已受理，办理中）",
    ]
    assert items[0]["lines"] == [("理由", "x")]


def test_objection_window_is_offered_only_to_the_holder_before_acceptance() -> None:
    routing = {
        "status": "routed",
        "holder_code": "339922-zrzy",
        "holder_since": "2026-03-02T02:00:00+00:00",  # a Monday
        "hops": [{"from_unit_code": "339922", "to_unit_code": "339922-zrzy"}],
    }
    kw: dict[str, Any] = {"org_code": "339922-zrzy", "state": "routed"}
    assert forms.objection_closes(routing, today=date(2026, 3, 4), **kw) == date(2026, 3, 9)
    assert forms.objection_closes(routing, today=date(2026, 3, 10), **kw) is None
    assert (
        forms.objection_closes(
            routing, today=date(2026, 3, 4), org_code="339902-rsj", state="routed"
        )
        is None
    )
    assert (
        forms.objection_closes(
            routing, today=date(2026, 3, 4), org_code="339922-zrzy", state="accepted"
        )
        is None
    )


# --- the pages, from API answers ---------------------------------------------------------------


class _User:
    username = "qinghe.zrzy"
    name = "承办人"
    org_label = "清河县自然资源和规划局"
    role_label = "承办人"
    csrf = "t"


CASE: dict[str, Any] = {
    "case_id": "c1",
    "case_number": "339922-2026-000001",
    "status": "accepted",
    "status_label": "已受理，办理中",
    "backlog": False,
    "category_label": "土地征收补偿",
    "place_name": "清河镇",
    "received_at": "2026-03-01T01:00:00Z",
    "unit_name": "清河县自然资源和规划局",
    "leader": None,
    "extension_days": 0,
    "repeat_count": 0,
    "deadlines": [],
    "history": [],
    "extension_requests": [],
    "orders": [],
}


def _render(**ctx: Any) -> str:
    base: dict[str, Any] = {
        "user": _User(),
        "nav": [],
        "path": "/cases/c1",
        "case": CASE,
        "record": None,
        "routing": None,
        "deadlines": [],
        "timeline": [],
        "offered": [],
        "pending_extension": None,
        "objection_closes": None,
        "outcomes": [(o, o) for o in forms.REPLY_OUTCOMES],
        "failed": None,
        "done": "",
        "back_href": "/todo",
    }
    return Pages(default_tree()).html("case.html", **{**base, **ctx})


def test_a_sealed_informant_stays_sealed_on_the_case_page() -> None:
    record = {
        "title": "举报",
        "channel_label": "来信",
        "collective": False,
        "persons": 1,
        "matter_location_name": "清河镇",
        "matter_address": "",
        "received_at": "2026-03-01T01:00:00Z",
        "receiving_office_name": "清河县信访局",
        "content": "内容",
        "informant_sealed": True,
        "anonymous": False,
        "petitioners": [],
    }
    html = _render(record=record)
    assert "检举控告人的信息依法保密" in html


def test_a_refused_form_keeps_what_was_typed_and_shows_the_field_message() -> None:
    offered = forms.offered([{"action": "request_extension", "label": "申请延期"}])
    failed = {
        "key": "request_extension",
        "values": {"days": "15", "reason": ""},
        "errors": {"reason": "至少 2 个字符"},
        "message": "提交的数据有误，请按提示修改",
    }

    class F:
        def __init__(self, d: dict[str, Any]) -> None:
            self.__dict__.update(d)

    html = _render(offered=offered, failed=F(failed))
    assert 'value="15"' in html
    assert "至少 2 个字符" in html
    assert '<details class="act" open>' in html


def test_a_refused_step_keeps_its_form_even_when_no_longer_offered() -> None:
    now = forms.offered([{"action": "request_extension", "label": "申请延期"}])
    shown = forms.with_refused(now, "accept")
    assert [(s.action, s.stale) for s in shown] == [("accept", True), ("request_extension", False)]
    assert forms.with_refused(now, "request_extension") == now
    assert forms.with_refused(now, None) == now
    assert [s.order_id for s in forms.with_refused([], "feedback:o-9")] == ["o-9"]
