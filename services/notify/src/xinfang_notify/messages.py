"""Who is told what, in Chinese first: one function per event type, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared.events import (
    CaseEscalated,
    CaseLinked,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
    EventData,
    SkipLevelAlert,
    SupervisionOrderIssued,
)


@dataclass(frozen=True)
class Message:
    recipient: str
    level: str  # yellow | red | urgent | info
    title: str
    body: str


def compose(event: EventData) -> list[Message]:
    """Who is told what; the 包案领导 named on a case gets every reminder and escalation too."""
    msgs = _compose(event)
    leader = getattr(event, "leader", None)
    if leader and msgs:
        first = msgs[0]
        msgs.append(Message(f"leader:{leader}", first.level, f"【包案】{first.title}", first.body))
    return msgs


def _compose(event: EventData) -> list[Message]:
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
        body = (
            f"信访件 {event.case_number}（承办单位：{event.handling_unit_name or event.from_unit_code}）"
            f"已提级至{event.to_unit_name or event.to_unit_code}督办（第{event.escalation}次）。原因：{event.reason}"
        )
        msgs = [Message(event.to_unit_code, "red", f"提级督办：{event.case_number}", body)]
        if event.handling_unit_code:
            msgs.append(
                Message(event.handling_unit_code, "red", f"提级督办：{event.case_number}", body)
            )
        return msgs
    if isinstance(event, SupervisionOrderIssued):
        body = (
            f"{event.issued_to_name}：信访件 {event.case_number} 的{event.deadline_label}已于"
            f"{event.due_date:%Y年%m月%d日}到期未办结。{event.issued_by_name}现予督办，请于"
            f"{event.feedback_due:%Y年%m月%d日}前书面反馈办理情况。"
        )
        return [
            Message(event.issued_to, "red", f"督办：{event.case_number}", body),
            Message(event.issued_by, "info", f"已发督办单：{event.case_number}", body),
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
    if isinstance(event, SkipLevelAlert):
        body = (
            f"信访件 {event.case_number} 系越级走访（越{event.levels_skipped}级），由{event.receiving_office_name}"
            f"登记，依属地管理应由{event.responsible_name}办理，请及时做好接谈和稳控工作。"
        )
        return [
            Message(event.responsible_code, "red", f"越级访：{event.case_number}", body),
            Message(event.receiving_office_code, "red", f"越级访：{event.case_number}", body),
        ]
    if isinstance(event, CaseLinked):
        if event.received_above:
            body = (
                f"信访件 {event.case_number} 反映的事项正在下级办理（原件 {event.linked_case_number}），"
                f"依《信访工作条例》第十九条不再重复受理，已并入原件督办，请知悉。"
            )
        else:
            body = f"信访件 {event.case_number} 为{event.match}，已并入原件 {event.linked_case_number}（第{event.repeat_count}次反映）。"
        msgs = [
            Message(
                event.receiving_office_code, "info", f"{event.match}：{event.case_number}", body
            )
        ]
        if event.holder_code:
            msgs.append(
                Message(
                    event.holder_code, "yellow", f"{event.match}：{event.linked_case_number}", body
                )
            )
        return msgs
    return []
