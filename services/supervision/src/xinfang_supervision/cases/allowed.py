"""What the caller may do on a case now (``CaseRead.allowed_actions``): each step the case's
state allows (:mod:`xinfang_supervision.lifecycle`, and the domain's own preconditions: one
extension, a review only within its window…) AND the caller's role and unit may take
(:mod:`xinfang_supervision.permissions`). Pure: no I/O."""

from __future__ import annotations

from datetime import date

from xinfang_shared.auth.scope import Scope
from xinfang_shared.timeutil import local_date

from xinfang_supervision import permissions
from xinfang_supervision.cases.access import step_body
from xinfang_supervision.cases.aggregate import Case
from xinfang_supervision.cases.orders import STILL_OPEN, issuer
from xinfang_supervision.cases.schemas import AllowedActionRead
from xinfang_supervision.context import SupervisionContext
from xinfang_supervision.lifecycle import ACTION_LABELS, TRANSITIONS, Action, State

STEP_LABELS = {
    "request_extension": "申请延期",
    "hearing": "复核听证",
    "leader": "确定包案领导",
    "order": "督办",
    "feedback": "督办反馈",
}


def _window_open(sc: SupervisionContext, case: Case, action: Action, today: date) -> bool:
    law = sc.law()
    if action is Action.REQUEST_REVIEW and case.replied_at is not None:
        return today <= law.due(case, "review_request_window", local_date(case.replied_at))
    if action is Action.REQUEST_REREVIEW and case.review_answered_at is not None:
        start = local_date(case.review_answered_at)
        return today <= law.due(case, "rereview_request_window", start)
    return True


def allowed_actions(
    case: Case, *, scope: Scope, sc: SupervisionContext, today: date
) -> list[AllowedActionRead]:
    """The steps the caller may take on ``case`` now, in the lifecycle's order."""
    if not sc.owns(case.unit_code):
        return []  # another level runs the case: its steps are taken there
    tree = sc.tree

    def may(step: str, body: str | None = None) -> bool:
        at = body or step_body(tree, case.unit_code, step)
        return permissions.allows(step, scope=scope, tree=tree, body=at)

    found: list[AllowedActionRead] = []
    for action, (states, _) in TRANSITIONS.items():
        if case.status in states and may(action.value) and _window_open(sc, case, action, today):
            found.append(AllowedActionRead(action=action.value, label=ACTION_LABELS[action]))
    steps = [
        ("request_extension", case.status is State.ACCEPTED and case.pending_extension is None),
        ("hearing", case.status is State.REREVIEW_REQUESTED),
        ("leader", case.status in STILL_OPEN),
    ]
    found += [AllowedActionRead(action=s, label=STEP_LABELS[s]) for s, ok in steps if ok and may(s)]
    office = issuer(sc, case)
    if case.status in STILL_OPEN and office is not None and may("order", office):
        found.append(AllowedActionRead(action="order", label=STEP_LABELS["order"]))
    for order in case.orders:
        if order.feedback_at is None and may("order_feedback", order.issued_to):
            found.append(
                AllowedActionRead(action=f"feedback:{order.id}", label=STEP_LABELS["feedback"])
            )
    return found
