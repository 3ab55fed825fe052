"""Case status vocabulary shared by the services that show or change a case's status."""

from __future__ import annotations

from enum import StrEnum


class CaseStatus(StrEnum):
    REGISTERED = "registered"
    ROUTED = "routed"
    LINKED = "linked"
    ACCEPTED = "accepted"
    NOT_ACCEPTED = "not_accepted"
    IN_HANDLING = "in_handling"
    EXTENDED = "extended"
    REPLIED = "replied"
    CLOSED = "closed"


STATUS_LABELS: dict[str, str] = {
    CaseStatus.REGISTERED: "已登记",
    CaseStatus.ROUTED: "已转送责任单位",
    CaseStatus.LINKED: "已并入原件办理",
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.NOT_ACCEPTED: "不予受理",
    CaseStatus.IN_HANDLING: "办理中",
    CaseStatus.EXTENDED: "已延期",
    CaseStatus.REPLIED: "已出具处理意见",
    CaseStatus.CLOSED: "已办结",
}


STATUS_LABELS.update(
    {
        "not_accepted": "不予受理",
        "extended": "已延期办理",
        "review_requested": "复查中",
        "review_answered": "已出具复查意见",
        "rereview_requested": "复核中",
        "final": "已终结",
        "accepted": "已受理，办理中",
    }
)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)
