"""Who is told what, in Chinese first: one function per event type, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.events import (
    CaseEscalated,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
    EventData,
)


@dataclass(frozen=True)
class Message:
    recipient: str
    level: str  # yellow | red | urgent | info
    title: str
    body: str


def compose(event: EventData) -> list[Message]:
    if isinstance(event, DeadlineReminder):
        return [
            Message(
                recipient=event.unit_code,
                level="yellow",
                title=f"催办：{event.case_number} {event.deadline_label}还剩{event.days_left}天",
                body=(
                    f"{event.unit_name}：信访件 {event.case_number} 的{event.deadline_label}"
                    f"将于 {event.due_date:%Y年%m月%d日} 到期（剩余 {event.days_left} 天），请抓紧办理。"
                ),
            )
        ]
    if isinstance(event, DeadlineOverdue):
        return [
            Message(
                recipient=event.unit_code,
                level="red",
                title=f"超期：{event.case_number} {event.deadline_label}已超期{event.days_overdue}天",
                body=(
                    f"{event.unit_name}：信访件 {event.case_number} 的{event.deadline_label}"
                    f"已于 {event.due_date:%Y年%m月%d日} 到期，现超期 {event.days_overdue} 天，请立即办理并说明情况。"
                ),
            )
        ]
    if isinstance(event, CaseEscalated):
        return [
            Message(
                recipient=event.to_unit_code,
                level="red",
                title=f"提级督办：{event.case_number}",
                body=f"信访件 {event.case_number} 已由 {event.from_unit_code} 提级至本级督办。原因：{event.reason}",
            )
        ]
    if isinstance(event, CollectiveAlert):
        return [
            Message(
                recipient=f"{event.receiving_office_code}:leaders",
                level="urgent",
                title=f"集体访预警：{event.persons}人 {event.case_number}",
                body=(
                    f"{event.receiving_office_name}登记集体访一批，{event.persons}人"
                    f"（阈值 {event.threshold} 人），事由：{event.summary}。请领导立即关注并按规定1小时内报告。"
                ),
            )
        ]
    return []
