"""The supervisor's forms and lists, pure: form fields → the API's body, and what the APIs
answer → what a supervisor reads (no raw codes). The services decide everything else."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DueView:
    """One of the 督办 views over the worklist: its tab label and the worklist's filter."""

    key: str
    label: str
    filters: dict[str, Any]
    empty: str


DUE_VIEWS: tuple[DueView, ...] = (
    DueView("overdue", "已超期", {"overdue": "true"}, "没有已超期的案件"),
    DueView("today", "今日到期", {"due_within": 0}, "今天没有到期的案件（含已超期）"),
    DueView("week", "本周到期", {"due_within": 7}, "七日内没有到期的案件（含已超期）"),
)
DEFAULT_VIEW = "overdue"


def due_view(key: str | None) -> DueView:
    """The view a ``?view=`` asks for (an unknown one is the default: 已超期)."""
    return next((v for v in DUE_VIEWS if v.key == key), _default())


def _default() -> DueView:
    return next(v for v in DUE_VIEWS if v.key == DEFAULT_VIEW)


def page_number(raw: str | None) -> int:
    """``?page=`` as a page number ≥ 1 (anything else: the first page)."""
    try:
        n = int(raw or "1")
    except ValueError:
        return 1
    return n if 1 <= n <= 100_000 else 1


def days_text(next_deadline: Mapping[str, Any] | None) -> str:
    """The next deadline's days as a person says them: 已超期3天, 今天到期, 还剩5天."""
    if not next_deadline:
        return "无未到期的期限"
    days = int(next_deadline.get("days_left", 0))
    if days < 0:
        return f"已超期{-days}天"
    if days == 0:
        return "今天到期"
    return f"还剩{days}天"


def deadline_class(next_deadline: Mapping[str, Any] | None) -> str:
    """The colour of the days (wb.css ``.days.ok/.warn/.late``)."""
    state = str((next_deadline or {}).get("state") or "ok")
    return state if state in ("ok", "warn", "late") else "ok"


def order_body(values: Mapping[str, str]) -> dict[str, Any]:
    """督办 by hand: ``reason`` and ``feedback_due`` (YYYY-MM-DD, as the date input sends it;
    the API checks both and answers each field's message)."""
    return {
        "reason": values.get("reason", "").strip(),
        "feedback_due": values.get("feedback_due", "").strip() or None,
    }


def reassign_body(values: Mapping[str, str]) -> dict[str, Any]:
    """改派: the target body (chosen by name from routing's departments) and the reason."""
    return {
        "to_department_code": values.get("to_department_code", "").strip(),
        "reason": values.get("reason", "").strip(),
    }


def department_options(departments: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """Routing's departments as (code, what a person reads): 名称（种类）."""
    out = []
    for d in departments:
        kind = d.get("kind_label")
        out.append((str(d["code"]), f"{d['name']}（{kind}）" if kind else str(d["name"])))
    return out


@dataclass(frozen=True)
class Picked:
    """A 包案领导 chosen from the directory: the API's body, or the field's message."""

    body: dict[str, Any] | None
    errors: dict[str, str]


def leader_body(values: Mapping[str, str], directory: Sequence[Mapping[str, Any]]) -> Picked:
    """包案领导: an account from the directory (intake's ``/directory?role=leader``), never a
    typed name: the body carries the account's display name and username."""
    username = values.get("leader_username", "").strip()
    if not username:
        return Picked(None, {"leader_username": "请从名单中选择包案领导"})
    entry = next((e for e in directory if e.get("username") == username), None)
    if entry is None:
        return Picked(None, {"leader_username": "所选账号不在本辖区的领导名单中，请重新选择"})
    return Picked({"leader": str(entry["name"]), "leader_username": username}, {})


def leader_options(directory: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The directory's leaders as (username, 姓名 · 单位)."""
    return [
        (str(e["username"]), f"{e['name']} · {e.get('org_name') or '本辖区'}") for e in directory
    ]


def suggestion_text(suggestions: Sequence[Mapping[str, Any]]) -> str:
    """Routing's guesses for a triage item: 土地征收补偿 30%、村务管理 25%."""
    parts = []
    for s in suggestions:
        name = s.get("category_name") or s.get("name")
        if not name:
            continue
        parts.append(f"{name} {round(float(s.get('probability') or 0) * 100)}%")
    return "、".join(parts)


def allowed(case: Mapping[str, Any], action: str) -> bool:
    """Whether the supervision API offers this caller the step now (CaseRead.allowed_actions)."""
    return any(a.get("action") == action for a in case.get("allowed_actions") or [])
