"""Who may take each step of a case (信访工作条例): pure, the rules as data.

- the handling body's handlers (承办人 whose account belongs to the body holding the case)
  accept or decline it (A23), write the reply (A34), close it and ask for the extension;
- the extension is approved by a leader of that body (A34 经本机关负责人批准): a leader account
  of the body, or of the unit it belongs to; the approver recorded is that account;
- the 包案领导 is named by the leadership or the supervisors of a level that covers the body;
- review and re-review (A35, A36) are registered by the desk (registrars, supervisors) of a level
  that covers the reviewing office and answered by its supervisors or leaders;
- a 督办 order is answered by the handlers of the body it was issued to, and issued by hand by
  the supervisors or leaders of the office that oversees the case (never the handling body).

A service account (another service, acting for the person it names) may take any step. The
case's visibility (404 outside the caller's scope) is checked before these rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from xinfang_shared import org
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope, unit_of


class Who(StrEnum):
    HANDLING_BODY = "handling_body"
    BODY_LEADER = "body_leader"
    LEVEL_OVERSIGHT = "level_oversight"
    REVIEW_DESK = "review_desk"
    REVIEWING_BODY = "reviewing_body"
    OVERSEEING_OFFICE = "overseeing_office"


# step → who may take it (the lifecycle actions, and the steps with endpoints of their own)
STEPS: dict[str, Who] = {
    "accept": Who.HANDLING_BODY,
    "decline": Who.HANDLING_BODY,
    "reply": Who.HANDLING_BODY,
    "close": Who.HANDLING_BODY,
    "request_extension": Who.HANDLING_BODY,
    "order_feedback": Who.HANDLING_BODY,
    "extend": Who.BODY_LEADER,
    "leader": Who.LEVEL_OVERSIGHT,
    "request_review": Who.REVIEW_DESK,
    "request_rereview": Who.REVIEW_DESK,
    "answer_review": Who.REVIEWING_BODY,
    "answer_rereview": Who.REVIEWING_BODY,
    "hearing": Who.REVIEWING_BODY,
    "order": Who.OVERSEEING_OFFICE,
}

WHO_LABELS: dict[Who, tuple[str, str]] = {
    Who.HANDLING_BODY: ("承办单位（{body}）的承办人", "a handler of the handling body {code}"),
    Who.BODY_LEADER: (
        "承办单位（{body}）的负责人（领导账号）",
        "a leader of the handling body {code} (or of its unit)",
    ),
    Who.LEVEL_OVERSIGHT: (
        "管辖该承办单位的领导或督办员",
        "a leader or supervisor of a level that covers {code}",
    ),
    Who.REVIEW_DESK: (
        "复查（复核）机关（{body}）所在层级的登记员或督办员",
        "a registrar or supervisor of a level that covers the reviewing office {code}",
    ),
    Who.REVIEWING_BODY: (
        "复查（复核）机关（{body}）的督办员或领导",
        "a supervisor or leader of the reviewing office {code}",
    ),
    Who.OVERSEEING_OFFICE: (
        "督办该案的机构（{body}）的督办员或领导",
        "a supervisor or leader of the office overseeing the case, {code}",
    ),
}


@dataclass(frozen=True)
class Forbidden(Exception):
    zh: str
    en: str


def _allowed(who: Who, scope: Scope, tree: org.OrgTree, body: str) -> bool:
    p = scope.principal
    if who is Who.HANDLING_BODY:
        return p.role is Role.HANDLER and p.org_code == body
    if who is Who.BODY_LEADER:
        return p.role is Role.LEADER and p.org_code in {body, unit_of(tree, body)}
    if who is Who.LEVEL_OVERSIGHT:
        return p.role in (Role.LEADER, Role.SUPERVISOR) and scope.covers(body)
    if who is Who.REVIEW_DESK:
        return p.role in (Role.REGISTRAR, Role.SUPERVISOR) and scope.covers(body)
    if who is Who.OVERSEEING_OFFICE:
        return p.role in (Role.SUPERVISOR, Role.LEADER) and p.org_code in {
            body,
            unit_of(tree, body),
        }
    return p.role in (Role.SUPERVISOR, Role.LEADER) and scope.unit_code == unit_of(tree, body)


def allows(step: str, *, scope: Scope, tree: org.OrgTree, body: str) -> bool:
    """May the caller take ``step`` on a case whose step belongs to ``body``?"""
    return scope.principal.role is Role.SERVICE or _allowed(STEPS[step], scope, tree, body)


def check(step: str, *, scope: Scope, tree: org.OrgTree, body: str, body_name: str) -> None:
    """:class:`Forbidden` unless the caller may take ``step`` on a case whose step belongs to
    ``body`` (the handling body, or the reviewing office for review steps)."""
    if allows(step, scope=scope, tree=tree, body=body):
        return
    zh, en = WHO_LABELS[STEPS[step]]
    raise Forbidden(
        f"无权执行此操作：只有{zh.format(body=body_name or body)}可以办理",
        f"forbidden: only {en.format(code=body)} may do this",
    )
