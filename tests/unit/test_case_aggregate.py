"""Supervision's law on one case, decided in memory (the Case aggregate and its commands): which
steps are allowed, which deadlines open, close and move, what the petitioner is told next, who
oversees and where an escalation goes. No database, no broker: milliseconds."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from xinfang_shared import org
from xinfang_shared.timeutil import local_date
from xinfang_shared.workdays import (
    WorkCalendar,
    YearNotice,
    next_workday_on_or_after,
)
from xinfang_supervision.cases import aggregate as agg
from xinfang_supervision.cases import commands as c
from xinfang_supervision.cases import domain
from xinfang_supervision.cases import events as ev
from xinfang_supervision.cases.aggregate import Case, Law, Refused
from xinfang_supervision.cases.domain import handle
from xinfang_supervision.cases.events import evolve
from xinfang_supervision.cases.oversight import (
    escalation_step,
    order_issuer,
    rereviewing_office,
    reviewing_office,
)
from xinfang_supervision.lifecycle import State
from xinfang_supervision.profiles import default_profiles

TREE = org.default_tree()
LAW = Law(tree=TREE, profiles=default_profiles(), calendar=WorkCalendar())
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 2 March 2026, 10:00 in Beijing
DAY0 = local_date(T0)
ZRZY, COUNTY, CITY = "339922-zrzy", "339922-xfj", "339900-xfj"
REPLY = {"outcome": "予以支持", "facts": "f", "reasons": "r", "legal_basis": "l"}


def opened(
    *,
    unit: str = ZRZY,
    supervising: str | None = COUNTY,
    manual: bool = False,
    profile: str = "national",
    law: Law = LAW,
) -> Case:
    events = domain.open_case(
        case_id="c1",
        case_number="N-1",
        profile=profile,
        unit_code=unit,
        unit_name=TREE.department(unit).name if TREE.department(unit) else unit,  # type: ignore[union-attr]
        supervising_code=supervising,
        category="village_affairs",
        received_at=T0,
        routed_at=T0,
        needs_manual_triage=manual,
        actor="routing",
        note="转送",
        announce="已转送",
        now=T0,
        law=law,
    )
    assert isinstance(events[0], ev.CaseOpened)
    case = copy.deepcopy(events[0].case)
    for e in events[1:]:
        evolve(case, e)
    return case


def step(case: Case, cmd: c.Command, *, at: datetime = T0, law: Law = LAW) -> Case:
    """The case after ``cmd`` (the input is left as it was)."""
    before = copy.deepcopy(case)
    events = handle(case, cmd, now=at, law=law)
    assert case == before, "handle() must not change the case it is given"
    after = copy.deepcopy(case)
    for e in events:
        evolve(after, e)
    return after


def events_of(case: Case, cmd: c.Command, *, at: datetime = T0) -> list[Any]:
    return handle(case, cmd, now=at, law=LAW)


def refused(case: Case, cmd: c.Command, *, at: datetime = T0, law: Law = LAW) -> Refused:
    with pytest.raises(Refused) as info:
        handle(case, cmd, now=at, law=law)
    return info.value


def status(case: Case) -> dict[str, str]:
    return {d.kind: d.status for d in case.deadlines}


def due(case: Case, kind: str) -> date:
    d = case.deadline(kind)
    assert d is not None, kind
    return d.due_date


def to(state: str, case: Case | None = None, at: datetime = T0) -> Case:
    """A case brought along the lifecycle to ``state``."""
    case = case or opened()
    path: list[c.Command] = [
        c.Accept("承办人"),
        c.Reply("承办人", **REPLY),
        c.RequestReview("登记员"),
        c.AnswerReview("复查办", outcome="维持"),
        c.RequestRereview("登记员"),
        c.AnswerRereview("复核办", outcome="维持"),
    ]
    names = ["accepted", "replied", "review_requested", "review_answered", "rereview_requested"]
    for cmd, name in zip(path, [*names, "final"], strict=True):
        case = step(case, cmd, at=at)
        if name == state:
            return case
    return case


# --- opening ---------------------------------------------------------------------------------


def test_a_routed_case_has_the_acceptance_notice_deadline_watched_by_the_county() -> None:
    case = opened()
    assert case.status is State.ROUTED
    [d] = case.deadlines
    assert d.kind == "acceptance_notice" and d.status == "open"
    assert d.due_date == date(2026, 3, 17)  # 15 days, the day of routing not counted
    assert d.unit_code == ZRZY and d.supervisor_code == COUNTY
    assert d.next_check == d.due_date - timedelta(days=7)  # the first reminder


def test_opening_announces_the_state_the_deadline_and_the_next_step() -> None:
    events = domain.open_case(
        case_id="c1",
        case_number="N-1",
        profile="national",
        unit_code=ZRZY,
        unit_name="清河县自然资源和规划局",
        supervising_code=COUNTY,
        category=None,
        received_at=T0,
        routed_at=T0,
        needs_manual_triage=False,
        actor="routing",
        note="转送",
        announce="已转送清河县自然资源和规划局办理",
        now=T0,
        law=LAW,
    )
    [announced] = [e for e in events if isinstance(e, ev.Announced)]
    assert announced.old_status is None and announced.new_status is State.ROUTED
    assert [s.kind for s in announced.deadlines] == ["acceptance_notice"]
    assert announced.next_step == "清河县自然资源和规划局应于2026年03月17日前书面告知是否受理"


def test_an_item_for_hand_triage_has_the_a22_deadline_until_it_is_sent_on() -> None:
    case = opened(unit=COUNTY, supervising=COUNTY, manual=True)
    [triage] = case.deadlines
    assert triage.kind == "triage" and triage.unit_code == COUNTY
    assert triage.due_date >= DAY0 + timedelta(days=15)
    assert "正在分办" in domain.next_step(case, law=LAW)
    later = T0 + timedelta(days=2)
    sent = step(
        case,
        c.Reroute(
            actor="县信访局",
            action="改派",
            reason="职责",
            to_unit_code="339922-zjj",
            to_unit_name="清河县住房和城乡建设局",
            supervising_code=COUNTY,
            routed_at=later,
            needs_manual_triage=False,
        ),
        at=later,
    )
    assert status(sent) == {"triage": "met", "acceptance_notice": "open"}
    notice = sent.deadline("acceptance_notice")
    assert notice is not None and notice.unit_code == "339922-zjj"
    assert notice.start_date == local_date(later)  # the receiving body's 15 days start now
    assert sent.unit_code == "339922-zjj"


def test_a_case_returned_to_its_petition_office_is_overseen_from_the_level_above() -> None:
    case = opened()
    back = step(
        case,
        c.Reroute(
            actor="清河县自然资源和规划局",
            action="退回",
            reason="不属于本单位职责",
            to_unit_code=COUNTY,
            to_unit_name="清河县信访局",
            supervising_code=COUNTY,
            routed_at=T0,
            needs_manual_triage=False,
        ),
    )
    [d] = back.deadlines
    assert d.unit_code == COUNTY and d.supervisor_code == CITY  # never itself
    assert d.due_date == due(case, "acceptance_notice")  # the deadline moves with the case


# --- the lifecycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "cmd", "zh"),
    [
        ("routed", c.Reply("x", **REPLY), "不能出具处理意见书"),
        ("routed", c.RequestReview("x"), "不能申请复查"),
        ("routed", c.Close("x"), "不能办结"),
        ("accepted", c.Accept("x"), "不能受理"),
        ("replied", c.Extend("x", days=5, reason="r"), "不能延期"),
        ("final", c.RequestReview("x"), "不再受理"),
        ("final", c.AnswerRereview("x", outcome="维持"), "不再受理"),
    ],
)
def test_a_step_the_state_does_not_allow_is_refused_in_chinese(
    state: str, cmd: c.Command, zh: str
) -> None:
    case = opened() if state == "routed" else to(state)
    exc = refused(case, cmd)
    assert exc.status == 409 and zh in exc.zh and exc.en


def test_accepting_meets_the_acceptance_notice_and_opens_the_handling_period() -> None:
    case = to("accepted")
    assert case.status is State.ACCEPTED and case.accepted_at == T0
    assert status(case) == {"acceptance_notice": "met", "handling": "open"}
    assert due(case, "handling") == next_workday_on_or_after(DAY0 + timedelta(days=60))
    assert domain.next_step(case, law=LAW).endswith("前出具信访处理意见书")


def test_declining_needs_a_reason_and_meets_the_acceptance_notice() -> None:
    case = opened()
    exc = refused(case, c.Decline("承办人", reason="  "))
    assert exc.status == 422 and exc.extra["fields"] == ["reason"]
    declined = step(case, c.Decline("承办人", reason="不属于信访事项"))
    assert declined.status is State.NOT_ACCEPTED
    assert status(declined) == {"acceptance_notice": "met"}
    assert domain.next_step(declined, law=LAW) == "已书面告知不予受理的理由"
    [noted] = [
        e for e in events_of(case, c.Decline("承办人", reason="r")) if type(e).__name__ == "Noted"
    ]
    assert noted.detail == {"reason": "r"}


def test_an_extension_moves_the_handling_due_date_once_within_the_profiles_maximum() -> None:
    case = to("accepted")
    assert refused(case, c.Extend("张局长", days=31, reason="案情复杂")).status == 422
    assert refused(case, c.Extend("张局长", days=20)).extra["fields"] == ["reason"]
    extended = step(case, c.Extend("张局长", days=20, reason="需现场勘测"))
    assert extended.status is State.EXTENDED and extended.extension_days == 20
    # 60 + 20 days from acceptance; only the final end moves off a holiday (民法典 §203)
    assert due(extended, "handling") == next_workday_on_or_after(DAY0 + timedelta(days=80))
    handling = extended.deadline("handling")
    assert handling is not None and handling.stage_done == -1  # reminders start again
    again = refused(extended, c.Extend("张局长", days=5, reason="再延"))
    assert again.zh == "办理期限只能延长一次"
    [noted] = [
        e
        for e in events_of(case, c.Extend("张局长", days=20, reason="需现场勘测"))
        if isinstance(e, ev.Noted)
    ]
    assert noted.detail == {"days": 20, "reason": "需现场勘测", "approver": "张局长"}
    assert noted.note.startswith("经张局长批准延期20日")


def test_the_zhejiang_profile_allows_at_most_30_days_more_after_its_30() -> None:
    case = to("accepted", opened(profile="zhejiang"))
    assert due(case, "handling") == next_workday_on_or_after(DAY0 + timedelta(days=30))
    assert refused(case, c.Extend("x", days=31, reason="r")).zh == "延长期限应为1至30日"
    assert step(case, c.Extend("x", days=30, reason="r")).extension_days == 30
    # its acceptance notice is 5 working days
    assert due(opened(profile="zhejiang"), "acceptance_notice") == date(2026, 3, 9)


def test_a_leader_approves_the_handlers_pending_extension_request() -> None:
    case = to("accepted")
    assert refused(case, c.RequestExtension("承办人", days=31, reason="r")).status == 422
    asked = step(case, c.RequestExtension("承办人", days=20, reason="需现场勘测"))
    assert asked.status is State.ACCEPTED
    assert asked.pending_extension is not None and asked.pending_extension.days == 20
    again = refused(asked, c.RequestExtension("承办人", days=10, reason="r"))
    assert again.zh == "已有待批准的延期申请"
    asked.pending_extension.id = 7  # as stored
    events = events_of(asked, c.Extend("QH.LEADER"))
    [granted] = [e for e in events if isinstance(e, ev.ExtensionGranted)]
    assert (granted.days, granted.approver, granted.request_id) == (20, "QH.LEADER", 7)
    approved = step(asked, c.Extend("QH.LEADER"))
    assert approved.status is State.EXTENDED and approved.pending_extension is None
    assert due(approved, "handling") == next_workday_on_or_after(DAY0 + timedelta(days=80))
    assert refused(approved, c.RequestExtension("承办人", days=5, reason="r")).zh == (
        "办理期限只能延长一次"
    )


def test_the_reply_needs_every_part_and_one_of_the_three_outcomes() -> None:
    case = to("accepted")
    assert refused(case, c.Reply("x", **{**REPLY, "outcome": "同意"})).status == 422
    exc = refused(case, c.Reply("x", **{**REPLY, "facts": "", "legal_basis": " "}))
    assert exc.status == 422 and exc.extra["fields"] == ["facts", "legal_basis"]
    replied = step(case, c.Reply("x", **{**REPLY, "outcome": "作出解释说明"}))
    assert replied.status is State.REPLIED and replied.reply_outcome == "作出解释说明"
    assert status(replied) == {"acceptance_notice": "met", "handling": "met"}
    window = next_workday_on_or_after(DAY0 + timedelta(days=30))
    assert domain.next_step(replied, law=LAW) == (
        f"如不服处理意见，可于{window:%Y年%m月%d日}前向上一级机关申请复查"
    )
    assert step(replied, c.Close("x")).status is State.CLOSED


def test_a_review_opens_at_the_office_above_within_its_window_only() -> None:
    replied = step(to("replied"), c.Close("x"))
    window = next_workday_on_or_after(DAY0 + timedelta(days=30))
    late = refused(replied, c.RequestReview("登记员"), at=T0 + timedelta(days=45))
    assert late.status == 409 and late.extra["window_closed_on"] == window.isoformat()
    assert f"{window:%Y年%m月%d日}" in late.zh
    on_time = T0 + timedelta(days=10)
    reviewed = step(replied, c.RequestReview("登记员"), at=on_time)
    review = reviewed.deadline("review_answer")
    assert review is not None and review.unit_code == CITY  # the city, above the county
    assert review.start_date == local_date(on_time)
    answered = step(reviewed, c.AnswerReview("复查办", outcome="维持"), at=on_time)
    assert answered.status is State.REVIEW_ANSWERED and answered.review_answered_at == on_time
    assert status(answered)["review_answer"] == "met"
    assert "申请复核" in domain.next_step(answered, law=LAW)


def test_a_rereview_after_its_window_is_refused_with_the_closing_date() -> None:
    answered = to("review_answered")
    exc = refused(answered, c.RequestRereview("登记员"), at=T0 + timedelta(days=40))
    assert (
        exc.extra["window_closed_on"]
        == next_workday_on_or_after(DAY0 + timedelta(days=30)).isoformat()
    )


def test_a_hearing_moves_the_rereview_deadline_by_its_days_and_the_answer_is_final() -> None:
    case = to("rereview_requested")
    before = case.deadline("rereview_answer")
    assert before is not None and before.unit_code == CITY  # the top of this tree: itself
    assert refused(to("review_answered"), c.AddHearingDays("复核办", days=10)).status == 409
    assert refused(case, c.AddHearingDays("复核办", days=91)).status == 422
    heard = step(case, c.AddHearingDays("复核办", days=10))
    assert due(heard, "rereview_answer") == before.due_date + timedelta(days=10)
    final = step(heard, c.AnswerRereview("复核办", outcome="维持复查意见"))
    assert final.status is State.FINAL and status(final)["rereview_answer"] == "met"
    assert "不再受理" in domain.next_step(final, law=LAW)


def test_every_step_is_noted_with_who_and_from_which_state_and_announced() -> None:
    case = opened()
    events = events_of(case, c.Accept("承办人"))
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "DeadlineMet",
        "DeadlineOpened",
        "Accepted",
        "StatusChanged",
        "Noted",
        "Announced",
    ]
    noted = events[4]
    assert isinstance(noted, ev.Noted)
    assert (noted.actor, noted.action, noted.from_state, noted.to_state) == (
        "承办人",
        "accept",
        "routed",
        "accepted",
    )
    announced = events[5]
    assert isinstance(announced, ev.Announced)
    assert [(s.kind, s.status) for s in announced.deadlines] == [
        ("acceptance_notice", "met"),
        ("handling", "open"),
    ]


# --- 包案领导, 督办 feedback -------------------------------------------------------------------


def test_naming_the_leader_and_answering_an_order_once() -> None:
    case = step(opened(), c.NameLeader("县信访局", leader="李副县长"))
    assert case.leader == "李副县长"
    case.orders.append(
        agg.Order(
            id="o1",
            issued_by=COUNTY,
            issued_to=ZRZY,
            issued_at=T0,
            feedback_due=DAY0 + timedelta(days=30),
        )
    )
    with pytest.raises(agg.CaseNotFound):
        handle(case, c.GiveOrderFeedback("x", order_id="o2", text="t"), now=T0, law=LAW)
    answered = step(case, c.GiveOrderFeedback("承办人", order_id="o1", text="已约谈村委会"))
    assert answered.orders[0].feedback == "已约谈村委会"
    again = refused(answered, c.GiveOrderFeedback("承办人", order_id="o1", text="再次"))
    assert again.zh == "该督办单已反馈"


# --- who oversees ------------------------------------------------------------------------------


def test_the_order_issuer_and_escalation_path_go_up_the_tree_and_stop_at_its_top() -> None:
    township = "339922102-zf"
    assert order_issuer(TREE, township, "339922-xfj") == COUNTY
    assert order_issuer(TREE, township, None) == COUNTY
    assert order_issuer(TREE, CITY, CITY) is None  # nobody above the city issues one
    assert escalation_step(TREE, township, COUNTY) == (COUNTY, CITY)
    assert escalation_step(TREE, township, CITY) == (CITY, None)
    assert reviewing_office(TREE, ZRZY) == CITY and rereviewing_office(TREE, ZRZY) == CITY
    assert reviewing_office(TREE, township) == COUNTY
    assert rereviewing_office(TREE, township) == CITY


# --- a holiday notice, another level's case ---------------------------------------------------


def test_a_holiday_notice_moves_an_open_deadline_off_its_new_day_off() -> None:
    case = to("accepted")
    handling = case.deadline("handling")
    assert handling is not None
    day = handling.due_date
    # the year as the calendar in force has it, and the due date a day off too (调休)
    year = [date(day.year, 1, 1) + timedelta(days=n) for n in range(365)]
    off = {d for d in year if d.weekday() < 5 and not LAW.calendar.is_workday(d)}
    work = {d for d in year if d.weekday() >= 5 and LAW.calendar.is_workday(d)}
    notice = YearNotice(day.year, frozenset({*off, day}), frozenset(work), "国办发明电〔测试〕")
    new_law = Law(
        tree=TREE, profiles=LAW.profiles, calendar=WorkCalendar(notices={day.year: notice})
    )
    cmd = c.Recalendar(
        "管理员", year=day.year, deadline_ids=frozenset({handling.id}), previous=LAW.calendar
    )
    moved = step(case, cmd, law=new_law)
    assert due(moved, "handling") > day
    assert moved.deadline("handling").next_check == DAY0  # type: ignore[union-attr]
    # a deadline not listed (another level's) stays
    other = c.Recalendar("管理员", year=day.year, deadline_ids=frozenset(), previous=LAW.calendar)
    assert handle(case, other, now=T0, law=new_law) == []


def test_another_levels_status_is_copied_with_its_deadlines() -> None:
    case = opened()
    follows = step(
        case,
        c.MirrorStatus(
            actor="承办人",
            old_status="routed",
            new_status="accepted",
            note="已受理",
            deadlines=(
                c.MirrorDeadline("acceptance_notice", "受理告知", date(2026, 3, 17), "met"),
                c.MirrorDeadline("handling", "办理答复", date(2026, 5, 6), "open"),
            ),
        ),
    )
    assert follows.status is State.ACCEPTED
    assert status(follows) == {"acceptance_notice": "met", "handling": "open"}
    handling = follows.deadline("handling")
    assert handling is not None and handling.next_check is None  # the owner sweeps it
    unknown = c.MirrorStatus("x", "routed", "nonsense", "", ())
    assert handle(case, unknown, now=T0, law=LAW) == []
