"""The case lifecycle under the law: one state machine, owned by supervision, no I/O.

routed → accepted (受理, written notice) | not_accepted (不予受理, reason and written notice)
accepted → extended (once, ≤ the profile's maximum, reason + approver, petitioner told)
accepted | extended → replied (信访处理意见书: 予以支持 / 作出解释说明 / 不予支持)
replied → closed (办结)
replied | closed → review_requested (复查, only within 30 days of the reply) → review_answered
review_answered → rereview_requested (复核, only within 30 days) → final (终结: 不再受理)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    ROUTED = "routed"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    EXTENDED = "extended"
    REPLIED = "replied"
    CLOSED = "closed"
    REVIEW_REQUESTED = "review_requested"
    REVIEW_ANSWERED = "review_answered"
    REREVIEW_REQUESTED = "rereview_requested"
    FINAL = "final"


LABELS = {
    State.ROUTED: "已转送责任单位",
    State.ACCEPTED: "已受理，办理中",
    State.NOT_ACCEPTED: "不予受理",
    State.EXTENDED: "已延期办理",
    State.REPLIED: "已出具处理意见",
    State.CLOSED: "已办结",
    State.REVIEW_REQUESTED: "复查中",
    State.REVIEW_ANSWERED: "已出具复查意见",
    State.REREVIEW_REQUESTED: "复核中",
    State.FINAL: "已终结（复核意见为最终意见，同一事实和理由不再受理）",
}


class Action(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    EXTEND = "extend"
    REPLY = "reply"
    CLOSE = "close"
    REQUEST_REVIEW = "request_review"
    ANSWER_REVIEW = "answer_review"
    REQUEST_REREVIEW = "request_rereview"
    ANSWER_REREVIEW = "answer_rereview"


ACTION_LABELS = {
    Action.ACCEPT: "受理",
    Action.DECLINE: "不予受理",
    Action.EXTEND: "延期",
    Action.REPLY: "出具处理意见书",
    Action.CLOSE: "办结",
    Action.REQUEST_REVIEW: "申请复查",
    Action.ANSWER_REVIEW: "出具复查意见",
    Action.REQUEST_REREVIEW: "申请复核",
    Action.ANSWER_REREVIEW: "出具复核意见",
}

TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.ACCEPT: (frozenset({State.ROUTED}), State.ACCEPTED),
    Action.DECLINE: (frozenset({State.ROUTED}), State.NOT_ACCEPTED),
    Action.EXTEND: (frozenset({State.ACCEPTED}), State.EXTENDED),
    Action.REPLY: (frozenset({State.ACCEPTED, State.EXTENDED}), State.REPLIED),
    Action.CLOSE: (frozenset({State.REPLIED}), State.CLOSED),
    Action.REQUEST_REVIEW: (frozenset({State.REPLIED, State.CLOSED}), State.REVIEW_REQUESTED),
    Action.ANSWER_REVIEW: (frozenset({State.REVIEW_REQUESTED}), State.REVIEW_ANSWERED),
    Action.REQUEST_REREVIEW: (frozenset({State.REVIEW_ANSWERED}), State.REREVIEW_REQUESTED),
    Action.ANSWER_REREVIEW: (frozenset({State.REREVIEW_REQUESTED}), State.FINAL),
}

REPLY_OUTCOMES = {"予以支持", "作出解释说明", "不予支持"}


@dataclass(frozen=True)
class InvalidTransition(Exception):
    zh: str
    en: str


def next_state(state: State, action: Action) -> State:
    allowed, target = TRANSITIONS[action]
    if state not in allowed:
        if state is State.FINAL:
            zh = "该事项已终结，同一事实和理由不再受理"
        elif action is Action.EXTEND and state is State.EXTENDED:
            zh = "办理期限只能延长一次"
        else:
            zh = f"当前状态为“{LABELS[state]}”，不能{ACTION_LABELS[action]}"
        raise InvalidTransition(zh, f"cannot {action.value} a case that is {state.value}")
    return target


def open_states() -> frozenset[State]:
    """States in which the case is still being handled (counts for backlog and reports)."""
    return frozenset(
        {
            State.ROUTED,
            State.ACCEPTED,
            State.EXTENDED,
            State.REVIEW_REQUESTED,
            State.REREVIEW_REQUESTED,
        }
    )
