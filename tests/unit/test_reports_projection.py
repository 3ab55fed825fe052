"""The reports' projection (xinfang_reports.projection): what each event makes known of its
item, and the merge that makes the row the same whatever the order events arrive in and
however often one arrives."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from xinfang_reports import projection
from xinfang_reports.projection import COLUMNS, Patch, fold, merge, patch
from xinfang_shared.events import (
    CaseBacklogMarked,
    CaseLeaderNamed,
    CaseRouted,
    CaseStatusChanged,
    DeadlineSummary,
    Envelope,
    EventData,
    PetitionerInfo,
    PetitionReceived,
    new_event,
)

from tests.reports_events import ACCEPT_DUE, EXTENDED_DUE, T0, at, lifecycle

CASE = "c-1"


def env(data: EventData, when: datetime = T0) -> Envelope:
    return new_event(data=data, source="/tests", time=when)


def row_of(*envelopes: Envelope) -> Patch:
    patches = [p for e in envelopes if (p := patch(e)) is not None]
    return fold(patches)[CASE]


def received(**kw: Any) -> Envelope:
    data: dict[str, Any] = {
        "case_id": CASE,
        "case_number": "339922-2026-000001",
        "channel": "letter",
        "received_at": T0,
        "receiving_office_code": "339922",
        "receiving_office_name": "清河县信访局",
        "anonymous": False,
        "petitioners": [PetitionerInfo(name="张三"), PetitionerInfo(name="李四")],
        "persons": 2,
        "content": "反映村道损坏",
        **kw,
    }
    return env(PetitionReceived(**data))


def routed(hop: int, **kw: Any) -> Envelope:
    data: dict[str, Any] = {
        "case_id": CASE,
        "case_number": "339922-2026-000001",
        "hop": hop,
        "action": "交办",
        "from_unit_code": "339922",
        "from_unit_name": "清河县信访局",
        "to_unit_code": f"unit-{hop}",
        "to_unit_name": f"单位{hop}",
        "reason": "属地",
        "routed_at": at(hop),
        "received_at": T0,
        **kw,
    }
    return env(CaseRouted(**data), at(hop))


def status(new: str, when: datetime, *deadlines: tuple[str, date], **kw: Any) -> Envelope:
    return env(
        CaseStatusChanged(
            case_id=CASE,
            case_number="339922-2026-000001",
            old_status=None,
            new_status=new,
            changed_at=when,
            actor="x",
            deadlines=[
                DeadlineSummary(kind=k, label=k, due_date=d, status="open") for k, d in deadlines
            ],
            **kw,
        ),
        when,
    )


def backlog(reason: str, when: datetime) -> Envelope:
    return env(
        CaseBacklogMarked(case_id=CASE, case_number="n", reason=reason, marked_at=when), when
    )


def leader(name: str, when: datetime) -> Envelope:
    return env(
        CaseLeaderNamed(case_id=CASE, case_number="n", leader=name, actor="x", named_at=when), when
    )


def both_orders(*envelopes: Envelope) -> Patch:
    """The row from the events in the order given; asserts the reverse order gives it too."""
    forward, backward = row_of(*envelopes), row_of(*reversed(envelopes))
    assert forward == backward
    return forward


# --- one rule at a time -----------------------------------------------------------------------


def test_every_column_has_exactly_one_merge_rule() -> None:
    ruled = [c for g in projection.GROUPS for c in g.columns]
    ruled += [*projection.FLAGS, *projection.MAXIMA, projection.REASONS]
    assert sorted(ruled) == sorted(c for c in COLUMNS if c != "case_id")
    assert [c for c, n in Counter(ruled).items() if n > 1] == []


def test_the_reception_gives_local_date_names_summary_and_the_registrars_category() -> None:
    row = row_of(received(content="字" * 400, category="village_affairs", title="村道"))
    assert row["received_date"] == date(2026, 3, 2)  # 01:30 in Shanghai
    assert row["petitioners"] == "张三、李四"
    assert row["summary"] == "字" * 300
    assert (row["category"], row["category_name"]) == ("village_affairs", None)
    assert row["status"] is None and row["overdue"] is False and row["escalations"] == 0


def test_a_sealed_informant_is_never_named() -> None:
    row = row_of(received(informant_sealed=True, petitioners=[PetitionerInfo(name="举报人")]))
    assert row["petitioners"] is None and row["informant_sealed"] is True


def test_text_is_cut_to_its_column() -> None:
    many = [PetitionerInfo(name=f"姓名{i:03d}") for i in range(60)]
    row = row_of(received(petitioners=many, title="题" * 250))
    assert len(row["petitioners"]) == 200 and len(row["title"]) == 200


def test_routings_category_wins_over_the_registrars_whatever_the_order() -> None:
    row = both_orders(
        received(category="land"),
        routed(1, category="village_affairs", category_name="村务管理", final=False),
    )
    assert (row["category"], row["category_name"]) == ("village_affairs", "村务管理")
    # routing without a category leaves the registrar's
    row = both_orders(received(category="land"), routed(1, final=False))
    assert row["category"] == "land"


def test_the_first_routing_gives_the_place_and_kind_a_later_hop_does_not() -> None:
    row = both_orders(
        routed(1, final=False, place_code="339922102201", place_name="柳塘村", kind="申诉求决"),
        routed(3, action="改派", kind="建议意见", category="x"),
    )
    assert (row["place_code"], row["place_name"], row["kind"]) == (
        "339922102201",
        "柳塘村",
        "申诉求决",
    )
    assert row["category"] is None


def test_the_final_hop_with_the_highest_number_is_the_handling_body() -> None:
    row = both_orders(
        routed(1, final=False),
        routed(2, supervising_code="339922-xfj"),
        routed(4, action="改派", supervising_code="339922-xfj"),
        routed(3, action="退回"),
    )
    assert (row["handling_code"], row["handling_name"], row["route_hop"]) == ("unit-4", "单位4", 4)
    assert row["supervising_code"] == "339922-xfj"
    # a hop that is not final never names the handling body
    assert row_of(routed(1, final=False))["handling_code"] is None


def test_the_status_is_the_latest_change_and_a_tie_goes_to_the_later_state() -> None:
    row = both_orders(status("routed", at(0)), status("closed", at(9)), status("replied", at(5)))
    assert (row["status"], row["status_at"], row["status_label"]) == ("closed", at(9), "已办结")
    row = both_orders(status("replied", at(5)), status("closed", at(5)))
    assert row["status"] == "closed"


def test_decision_reply_and_closing_are_the_first_of_each() -> None:
    row = both_orders(
        status("accepted", at(3)),
        status("replied", at(40), note="予以支持"),
        status("closed", at(50)),
        status("review_requested", at(55)),
        status("replied", at(70), note="复查后维持"),
        status("final", at(90)),
    )
    assert (row["decided_at"], row["decided_date"], row["decision"]) == (
        at(3),
        date(2026, 3, 5),
        "accepted",
    )
    assert (row["replied_at"], row["outcome"]) == (at(40), "予以支持")
    assert (row["closed_at"], row["closed_date"]) == (at(50), date(2026, 4, 21))
    assert row["status"] == "final"
    assert row_of(status("not_accepted", at(2)))["decision"] == "not_accepted"


def test_deadlines_come_from_the_latest_event_carrying_them() -> None:
    row = both_orders(
        status("routed", at(0), ("acceptance_notice", ACCEPT_DUE)),
        status(
            "accepted", at(3), ("acceptance_notice", ACCEPT_DUE), ("handling", date(2026, 5, 4))
        ),
        status("extended", at(30), ("handling", EXTENDED_DUE)),
        status("replied", at(60)),  # carries no deadline: changes none
    )
    assert (row["accept_due"], row["reply_due"]) == (ACCEPT_DUE, EXTENDED_DUE)
    assert row["extended"] is True and row["status"] == "replied"


def test_overdue_supervised_escalated_and_flags_stay_set() -> None:
    events = [e for e in lifecycle(CASE) if e.type in {"deadline.overdue", "case.escalated"}]
    row = both_orders(*events)
    assert row["overdue"] is True
    assert row["first_overdue_date"] == EXTENDED_DUE + timedelta(days=1)
    assert row["escalations"] == 2


def test_the_latest_leader_named_is_the_leader() -> None:
    row = both_orders(leader("王副乡长", at(4)), leader("李副县长", at(103)))
    assert (row["leader"], row["leader_at"]) == ("李副县长", at(103))


def test_backlog_reasons_are_a_sorted_set_and_the_date_the_first() -> None:
    row = both_orders(
        backlog("超过90日未办结", at(108)),
        backlog("提级督办2次", at(107)),
        backlog("超过90日未办结", at(109)),
        backlog('重复信访；"3"次', at(200)),
    )
    assert row["backlog"] is True and row["backlog_date"] == date(2026, 6, 17)
    assert row["backlog_reasons"] == "提级督办2次；超过90日未办结；重复信访;＂3＂次"


def test_events_the_read_model_does_not_use_make_no_patch() -> None:
    notification = next(e for e in lifecycle(CASE) if e.type == "notification.sent")
    assert patch(notification) is None
    assert patch(received(case_id="x" * 37)) is None  # no row can hold that id


# --- any order, any duplication ---------------------------------------------------------------


def _patches() -> list[Patch]:
    return [p for e in lifecycle(CASE) if (p := patch(e)) is not None]


def test_the_lifecycle_gives_the_row_the_ledger_shows() -> None:
    row = fold(_patches())[CASE]
    assert row["case_number"] == "339922-2026-000123"
    assert (row["channel"], row["persons"], row["collective"]) == ("visit", 6, True)
    assert (row["place_code"], row["category_name"], row["skip_level"]) == (
        "339922102201",
        "村务管理",
        True,
    )
    assert (row["handling_code"], row["route_hop"]) == ("339922102-cj", 3)
    assert (row["repeat_match"], row["linked_case_number"]) == ("重复信访", "339922-2025-000777")
    assert (row["status"], row["decision"], row["extended"]) == ("closed", "accepted", True)
    assert (row["accept_due"], row["reply_due"]) == (ACCEPT_DUE, EXTENDED_DUE)
    assert row["outcome"] == "予以支持：村道已修复"
    assert row["replied_date"] == date(2026, 6, 20) and row["closed_date"] == date(2026, 6, 30)
    assert (row["supervised"], row["first_order_date"]) == (True, date(2026, 6, 6))
    assert (row["leader"], row["escalations"], row["collective_alert"]) == ("李副县长", 2, True)
    assert row["backlog_reasons"] == "提级督办2次；超过90日未办结"


def _random_tree(rng: random.Random, patches: list[Patch]) -> Patch:
    """The patches merged pairwise in a random shape (not only left to right)."""
    work = list(patches)
    while len(work) > 1:
        i = rng.randrange(len(work) - 1)
        work[i : i + 2] = [merge(work[i], work[i + 1])]
    return work[0]


def test_every_order_and_duplication_of_the_lifecycle_gives_the_same_row() -> None:
    patches = _patches()
    want = fold(patches)[CASE]
    rng = random.Random(17)
    for _ in range(400):
        shuffled = patches + rng.choices(patches, k=rng.randrange(0, 8))
        rng.shuffle(shuffled)
        assert fold(shuffled)[CASE] == want
        assert _random_tree(rng, shuffled) == want
    # every permutation of the events that contend for the same columns
    contended = [
        p
        for e in lifecycle(CASE)
        if e.type in {"case.status_changed", "case.leader_named", "case.backlog", "case.routed"}
        and (p := patch(e)) is not None
    ][:7]
    subset = fold(contended)[CASE]
    for order in itertools.permutations(contended):
        assert fold(order)[CASE] == subset


@pytest.mark.parametrize("i", range(len(lifecycle(CASE)) - 1))
def test_merge_is_idempotent_and_commutative(i: int) -> None:
    patches = _patches()
    a, b = patches[i % len(patches)], patches[(i * 7 + 3) % len(patches)]
    assert merge(a, a) == a
    assert merge(a, b) == merge(b, a)
    assert merge(merge(a, b), b) == merge(a, b)


def test_the_reason_cleaning_keeps_the_set_splittable() -> None:
    assert projection.clean_reason(' 重复信访；3次\\"\x00 ') == "重复信访;3次＼＂"
    assert projection.clean_reason("   ") is None
    assert projection.union_reasons("乙；甲", "丙；乙") == "丙；乙；甲"
    assert (
        projection.union_reasons(None, "甲") == "甲"
        and projection.union_reasons("甲", None) == "甲"
    )


def test_times_keep_their_zone() -> None:
    row = row_of(received(received_at=datetime(2026, 3, 1, 16, 0, tzinfo=UTC)))
    assert row["received_date"] == date(2026, 3, 2)  # midnight in Shanghai
    row = row_of(received(received_at=datetime(2026, 3, 1, 15, 59, tzinfo=UTC)))
    assert row["received_date"] == date(2026, 3, 1)


def linked(**kw: Any) -> Envelope:
    from xinfang_shared.events import CaseLinked

    data: dict[str, Any] = {
        "case_id": CASE,
        "case_number": "339922-2026-000001",
        "linked_case_id": "c-0",
        "linked_case_number": "339922-2026-000000",
        "match": "重复信访",
        "similarity": 0.8,
        "repeat_count": 2,
        "receiving_office_code": "339922",
        "holder_code": "339922-zrzy",
        "holder_name": "清河县自然资源和规划局",
        "category": "land_requisition",
        "category_name": "土地征收补偿",
        "kind": "申诉求决",
        "linked_at": T0 + timedelta(minutes=1),
        **kw,
    }
    return env(CaseLinked(**data))


def test_a_repeat_is_counted_about_the_case_it_joins_and_under_its_holder() -> None:
    """A repeat is never routed itself: it takes the matter and the holder of the case it
    joins, and its place is the registrar's matter location."""
    row = row_of(received(category="土地征收补偿", matter_location_code="339922101201"), linked())
    assert row["repeat_match"] == "重复信访"
    assert (row["category"], row["category_name"]) == ("land_requisition", "土地征收补偿")
    assert (row["handling_code"], row["handling_name"]) == ("339922-zrzy", "清河县自然资源和规划局")
    assert row["place_code"] == "339922101201" and row["place_name"] is None


def test_routing_of_the_item_itself_wins_over_what_a_link_or_the_desk_said() -> None:
    hop = routed(1, place_code="339922103201", place_name="石门村")
    for events in itertools.permutations(
        [received(matter_location_code="339922101201"), linked(), hop]
    ):
        row = row_of(*events)
        assert row["place_code"] == "339922103201" and row["place_name"] == "石门村"
        assert row["route_hop"] == 1
