"""待办 (the handler's list and case page), pure: the list's query → the worklist's parameters,
an action form's fields → the API body of that step, and the APIs' values → what a person reads
(days left and their colour, the timeline of hops and steps). No I/O here."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from xinfang_shared.timeutil import SHANGHAI
from xinfang_shared.workdays import add_working_days

PAGE_SIZE = 20
MAX_PAGE = 100_000
# a case number is <office code>-<year>-<seq> (339922-2026-000017); a prefix of one from the
# office code on is searched as a case number; anything else (a name, a phone, words of the
# content) goes to intake's record search
CASE_NUMBER = re.compile(r"\d{6,12}-\d{0,4}(-\d{0,6})?")
SORTS = (
    "due",
    "-due",
    "received",
    "-received",
    "case_number",
    "-case_number",
    "updated",
    "-updated",
)
# the lifecycle's states (supervision's lifecycle.State) as the filter offers them
STATUS_LABELS: dict[str, str] = {
    "routed": "待受理",
    "accepted": "已受理，办理中",
    "extended": "已延期办理",
    "not_accepted": "不予受理",
    "replied": "已出具处理意见",
    "closed": "已办结",
    "review_requested": "复查中",
    "review_answered": "已出具复查意见",
    "rereview_requested": "复核中",
    "final": "已终结",
}
DUE_WITHIN = (("0", "今日到期及已超期"), ("3", "3 日内"), ("7", "7 日内"), ("15", "15 日内"))
WARN_SHARE = 0.25
DAY_STATE_LABELS = {"ok": "正常", "warn": "临期", "late": "已超期"}


# --- the list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """The 待办 list's filters as the user set them (kept in the page's address)."""

    status: tuple[str, ...] = ()
    category: str = ""
    place: str = ""
    due_within: str = ""
    q: str = ""
    sort: str = "due"
    page: int = 1
    include_closed: bool = False

    def form_values(self) -> dict[str, str]:
        return {
            "category": self.category,
            "place": self.place,
            "due_within": self.due_within,
            "q": self.q,
            "sort": self.sort,
        }

    def href(self, **changes: Any) -> str:
        """This list's address with some settings changed (sort or page links)."""
        params: list[tuple[str, str]] = [("status", s) for s in self.status]
        values = {
            **self.form_values(),
            "page": str(self.page),
            **{k: str(v) for k, v in changes.items()},
        }
        if self.include_closed:
            params.append(("closed", "1"))
        params += [(k, v) for k, v in values.items() if v and not (k == "page" and v == "1")]
        params = [(k, v) for k, v in params if not (k == "sort" and v == "due")]
        return "/todo" + ("?" + urlencode(params) if params else "")

    def sort_href(self, column: str) -> str:
        """The header link: ascending first, then descending; back to page 1."""
        return self.href(sort=f"-{column}" if self.sort == column else column, page=1)

    def sort_mark(self, column: str) -> str:
        return "▲" if self.sort == column else "▼" if self.sort == f"-{column}" else ""


def _int_or(value: str, default: int, *, low: int, high: int) -> int:
    try:
        n = int(value)
    except ValueError:
        return default
    return min(max(n, low), high)


def list_query(params: Mapping[str, str], statuses: Sequence[str]) -> ListQuery:
    """The list's settings from the page's address (anything unknown is dropped, not sent)."""
    due = params.get("due_within", "").strip()
    sort = params.get("sort", "due")
    return ListQuery(
        status=tuple(s for s in statuses if s in STATUS_LABELS),
        category=params.get("category", "").strip()[:40],
        place=params.get("place", "").strip()[:40],
        due_within=due if due.isdigit() and int(due) <= 3650 else "",
        q=" ".join(params.get("q", "").split())[:100],
        sort=sort if sort in SORTS else "due",
        page=_int_or(params.get("page", "1"), 1, low=1, high=MAX_PAGE),
        include_closed=params.get("closed", "") in ("1", "on"),
    )


def is_case_number(q: str) -> bool:
    return CASE_NUMBER.fullmatch(q) is not None


def worklist_params(query: ListQuery, case_ids: Sequence[str] | None = None) -> dict[str, Any]:
    """GET /api/v1/worklist's parameters: the filters passed through; a case-number-looking
    search as ``case_number``, any other search as the ``case_ids`` intake found for it."""
    params: dict[str, Any] = {
        "status": list(query.status),
        "category": query.category,
        "place": query.place,
        "due_within": int(query.due_within) if query.due_within else None,
        "sort": query.sort,
        "page": query.page,
        "size": PAGE_SIZE,
    }
    if query.include_closed and not query.status:
        params["open"] = "false"
    if query.q and is_case_number(query.q):
        params["case_number"] = query.q
    elif query.q:
        params["case_ids"] = ",".join(case_ids or ())
    return params


def needs_record_search(query: ListQuery) -> bool:
    return bool(query.q) and not is_case_number(query.q)


def pages(total: int, page: int, size: int = PAGE_SIZE) -> dict[str, int]:
    last = max(1, -(-total // size))
    return {"page": min(page, last), "last": last, "total": total}


# --- days left ------------------------------------------------------------------------------


def days_class(deadline: Mapping[str, Any] | None) -> str:
    """The colour of a deadline's days left: ``late`` when overdue, ``warn`` when less than a
    quarter of its period is left, else ``ok`` (the API's ``state`` when it gives one)."""
    if not deadline:
        return ""
    state = deadline.get("state")
    if state in DAY_STATE_LABELS:
        return str(state)
    days_left = int(deadline.get("days_left", 0))
    if days_left < 0:
        return "late"
    share = deadline.get("share_left")
    return "warn" if share is not None and float(share) < WARN_SHARE else "ok"


def days_text(days_left: int) -> str:
    if days_left < 0:
        return f"已超期 {-days_left} 天"
    if days_left == 0:
        return "今日到期"
    return f"剩 {days_left} 天"


def service_today(next_deadline: Mapping[str, Any] | None) -> date | None:
    """The services' today (their clock may run ahead of the wall's): the worklist's next
    deadline is due ``days_left`` days after it."""
    if not next_deadline:
        return None
    due = date.fromisoformat(str(next_deadline["due_date"]))
    return due - timedelta(days=int(next_deadline["days_left"]))


def deadline_days(deadline: Mapping[str, Any], today: date) -> dict[str, Any]:
    """An open deadline of the case page (DeadlineRead has no days left): days left from
    ``today`` and their colour, by the same rule as the list's."""
    start = date.fromisoformat(str(deadline["start_date"]))
    due = date.fromisoformat(str(deadline["due_date"]))
    days_left = (due - today).days
    span = max((due - start).days, 1)
    share = min(max(days_left / span, 0.0), 1.0)
    cls = days_class({"days_left": days_left, "share_left": share})
    return {"days_left": days_left, "cls": cls, "text": days_text(days_left)}


# --- the actions ----------------------------------------------------------------------------

REPLY_OUTCOMES = ("予以支持", "作出解释说明", "不予支持")
# the lifecycle steps this page offers a form for (包案领导 and 督办 by hand are the oversight
# forms', case_oversight.html)
ACTION_FIELDS: dict[str, tuple[str, ...]] = {
    "accept": (),
    "decline": ("reason",),
    "request_extension": ("days", "reason"),
    "extend": ("days", "reason"),
    "reply": ("outcome", "facts", "reasons", "legal_basis"),
    "close": (),
    "request_review": (),
    "answer_review": ("outcome",),
    "request_rereview": (),
    "answer_rereview": ("outcome",),
    "hearing": ("days",),
}
LIFECYCLE = frozenset(
    {
        "accept",
        "decline",
        "extend",
        "reply",
        "close",
        "request_review",
        "answer_review",
        "request_rereview",
        "answer_rereview",
    }
)
DONE_LABELS = {
    "accept": "已受理",
    "decline": "已作出不予受理决定",
    "request_extension": "已提交延期申请，待本机关负责人批准",
    "extend": "已批准延期",
    "reply": "已出具信访处理意见书",
    "close": "已办结",
    "request_review": "已登记复查申请",
    "answer_review": "已出具复查意见",
    "request_rereview": "已登记复核申请",
    "answer_rereview": "已出具复核意见",
    "hearing": "已登记听证",
    "feedback": "已提交督办反馈",
    "objection": "已提出异议，案件退回交办机关重新分办",
}


def _days(value: str) -> int | str | None:
    """Whole days as a number; anything else as typed (the API names the problem)."""
    if not value:
        return None
    return int(value) if value.isdigit() and len(value) <= 6 else value


def action_body(action: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """The body of one step from its form's fields (each step sends only its own fields; an
    empty optional field is left out, an empty required one sent empty for the API to name)."""
    body: dict[str, Any] = {}
    for name in ACTION_FIELDS.get(action, ()):
        value = fields.get(name, "").strip()
        if name == "days":
            days = _days(value)
            if days is not None or action != "extend":
                body["days"] = days
        elif value or action != "extend":
            body[name] = value
    return body


def feedback_body(fields: Mapping[str, str]) -> dict[str, Any]:
    return {"text": fields.get("text", "").strip()}


def objection_body(fields: Mapping[str, str]) -> dict[str, Any]:
    return {"reason": fields.get("reason", "").strip()}


def api_path(case_id: str, action: str) -> tuple[str, str]:
    """(service, path) of a step's endpoint."""
    if action in LIFECYCLE:
        return "supervision", f"/api/v1/cases/{case_id}/actions/{action}"
    if action == "request_extension":
        return "supervision", f"/api/v1/cases/{case_id}/extension-request"
    if action == "hearing":
        return "supervision", f"/api/v1/cases/{case_id}/hearing"
    raise KeyError(action)


@dataclass(frozen=True)
class Offered:
    """One step the API allows the user now, as the page shows it."""

    action: str
    label: str
    order_id: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)
    stale: bool = False  # refused and no longer allowed: shown with the refusal, no button


def offered(allowed: Sequence[Mapping[str, Any]]) -> list[Offered]:
    """The steps of ``allowed_actions`` this page has a form for, in the API's order."""
    out = []
    for a in allowed:
        action = str(a.get("action", ""))
        label = str(a.get("label") or "")
        if action.startswith("feedback:"):
            out.append(Offered("feedback", label or "督办反馈", order_id=action.split(":", 1)[1]))
        elif action in ACTION_FIELDS:
            out.append(Offered(action, label, fields=ACTION_FIELDS[action]))
    return out


ACTION_LABELS = {
    "accept": "受理",
    "decline": "不予受理",
    "request_extension": "申请延期",
    "extend": "批准延期",
    "reply": "出具处理意见书",
    "close": "办结",
    "request_review": "申请复查",
    "answer_review": "出具复查意见",
    "request_rereview": "申请复核",
    "answer_rereview": "出具复核意见",
    "hearing": "复核听证",
    "feedback": "督办反馈",
}


def with_refused(steps: list[Offered], key: str | None) -> list[Offered]:
    """The steps to show after a refusal: the refused form stays on the page (with the API's
    words beside it) even when the step is no longer offered, e.g. a 409 for a stale page."""
    if not key or key == "objection":
        return steps
    if any(
        (f"feedback:{s.order_id}" if s.action == "feedback" else s.action) == key for s in steps
    ):
        return steps
    action, _, order_id = key.partition(":")
    if action not in ACTION_LABELS:
        return steps
    refused = Offered(
        action, ACTION_LABELS[action], order_id, ACTION_FIELDS.get(action, ()), stale=True
    )
    return [refused, *steps]


def pending_extension(case: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The handler's extension request a leader has not decided yet."""
    for r in reversed(case.get("extension_requests") or []):
        if not r.get("decision"):
            return dict(r)
    return None


# --- the timeline ---------------------------------------------------------------------------

DETAIL_LABELS = (
    ("outcome", "处理意见"),
    ("reason", "理由"),
    ("days", "延长天数"),
    ("approver", "批准人"),
    ("facts", "查明的事实"),
    ("reasons", "理由"),
    ("legal_basis", "法律依据"),
)


# the services' own names when a step was theirs (a person reads no account code of a service)
SERVICE_ACTORS = {
    "routing": "分办系统",
    "supervision": "督办系统",
    "intake": "登记系统",
    "notify": "通知系统",
    "sweep": "期限巡检",
    "system": "系统",
    "workbench": "工作台",
}


def actor_label(actor: str) -> str:
    return SERVICE_ACTORS.get(actor, actor)


def timeline(
    hops: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The case's hops (routing) and steps (supervision) in the order they happened."""
    items: list[dict[str, Any]] = []
    for h in hops:
        items.append(
            {
                "at": str(h.get("routed_at") or ""),
                "title": f"{h.get('action', '分办')}：{h.get('from_unit_name', '')} → {h.get('to_unit_name', '')}",
                "actor": actor_label(str(h.get("actor") or "")),
                "lines": [("理由", str(h["reason"]))] if h.get("reason") else [],
                "kind": "hop",
            }
        )
    for e in history:
        detail = e.get("detail") or {}
        lines = [
            (label, str(detail[k])) for k, label in DETAIL_LABELS if detail.get(k) not in (None, "")
        ]
        if e.get("note"):
            lines.append(("备注", str(e["note"])))
        to_state = STATUS_LABELS.get(str(e.get("to_state") or ""), "")
        title = str(e.get("action_label") or "办理")
        items.append(
            {
                "at": str(e.get("at") or ""),
                "title": title
                + (
                    f"（{to_state}）"
                    if to_state and e.get("from_state") != e.get("to_state")
                    else ""
                ),
                "actor": actor_label(str(e.get("actor") or "")),
                "lines": lines,
                "kind": "step",
            }
        )
    return sorted(items, key=lambda i: _instant(i["at"]))


def _instant(value: str) -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


# --- the objection (routing's: 收到之日起 5 个工作日内) --------------------------------------

OBJECTION_WORKING_DAYS = 5


def objection_closes(
    routing_case: Mapping[str, Any] | None, *, org_code: str, state: str, today: date
) -> date | None:
    """The last day the user's body may object to the case it holds (A23), or None when no
    objection is open to it now: routing holds the case at the user's own body (not taken up
    there directly), supervision has not seen it accepted or declined, and the five working
    days from its arrival have not run out. Routing decides (a 409 is shown beside the form):
    this only keeps a form that could only fail from being offered."""
    if not routing_case or routing_case.get("status") != "routed" or state != "routed":
        return None
    if routing_case.get("holder_code") != org_code or not routing_case.get("holder_since"):
        return None
    hops = routing_case.get("hops") or []
    if hops and hops[-1].get("from_unit_code") == hops[-1].get("to_unit_code"):
        return None
    since = _instant(str(routing_case["holder_since"])).astimezone(SHANGHAI).date()
    closes = add_working_days(since, OBJECTION_WORKING_DAYS)
    return closes if today <= closes else None
