"""Who is told what: one function per event type, no I/O. The words live in Jinja2 templates
(``templates/<locale>/<kind>.j2``, Chinese first, English as the fallback locale)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from xinfang_shared import org
from xinfang_shared.events import (
    AlertEscalated,
    CaseEscalated,
    CaseLinked,
    CollectiveAlert,
    DeadlineOverdue,
    DeadlineReminder,
    EmergingAlert,
    EventData,
    RepeatWaveAlert,
    SkipLevelAlert,
    SupervisionOrderIssued,
)


@dataclass(frozen=True)
class Message:
    recipient: str  # unit/department code, "<unit>:leaders" or "leader:<name>"
    level: str  # info | yellow | red | urgent
    kind: str  # the template
    ctx: dict[str, Any] = field(default_factory=dict)
    copy: bool = False  # the 包案领导's copy


RECIPIENT_MAX = 60  # the notification log's column


def compose(event: EventData, tree: org.OrgTree) -> list[Message]:
    """Who is told what; the 包案领导 named on a case gets every reminder and escalation too.
    Each recipient once: the first message addressed to it (e.g. a 督办 order issued by the
    office it is addressed to is the order, not also the copy for the issuer)."""
    msgs = _compose(event, tree)
    leader = getattr(event, "leader", None)
    if leader and msgs:
        first = msgs[0]
        msgs.append(Message(f"leader:{leader}", first.level, first.kind, first.ctx, copy=True))
    return unique_recipients(msgs)


def unique_recipients(msgs: list[Message]) -> list[Message]:
    """The first message to each recipient (as the log stores it: at most RECIPIENT_MAX)."""
    out: list[Message] = []
    seen: set[str] = set()
    for m in msgs:
        key = m.recipient[:RECIPIENT_MAX]
        if key in seen:
            continue
        seen.add(key)
        out.append(m if key == m.recipient else replace(m, recipient=key))
    return out


def compose_reminder(alert: dict[str, Any], tree: org.OrgTree) -> list[Message]:
    """An alert still unacknowledged at the top of the tree: its leadership and office again.
    ``alert`` holds the alert's row and ``reminder`` / ``reminders_max``."""
    unit = tree.unit(alert["unit_code"])
    ctx = {"a": {**alert, "unit_name": unit.name if unit else alert["unit_code"]}}
    recipients = [f"{alert['unit_code']}:leaders", _office(tree, alert["unit_code"])]
    return [Message(r, "urgent", "alert_reminder", ctx) for r in _unique(recipients)]


def _office(tree: org.OrgTree, unit_code: str | None) -> str | None:
    office = tree.petition_office(unit_code) if unit_code else None
    return office.code if office else None


def _parent(tree: org.OrgTree, code: str | None) -> org.OrgUnit | None:
    unit = tree.unit(code.split("-")[0]) if code else None
    return tree.unit(unit.parent) if unit and unit.parent else None


def territory_unit(tree: org.OrgTree, location: str | None) -> org.OrgUnit | None:
    """The unit with an office that answers for a place (a village's township)."""
    for unit in tree.ancestors(location or ""):
        if tree.petition_office(unit.code) is not None:
            return unit
    return None


def _place_name(tree: org.OrgTree, location: str | None) -> str | None:
    """清河镇东岗村: the township (or county) and the village of a place."""
    names = [u.name for u in tree.ancestors(location or "") if u.level in _LOCAL][::-1]
    return "".join(names) or None


_LOCAL = (org.Level.TOWNSHIP, org.Level.VILLAGE)


def _compose(e: EventData, tree: org.OrgTree) -> list[Message]:
    ctx: dict[str, Any] = {"e": e}
    if isinstance(e, DeadlineReminder):
        return [Message(e.unit_code, "yellow", "reminder", ctx)]
    if isinstance(e, DeadlineOverdue):
        # the handler, and the office that supervises it (it issues the 督办)
        return [
            Message(r, "red", "overdue", ctx) for r in _unique([e.unit_code, e.supervisor_code])
        ]
    if isinstance(e, CaseEscalated):
        msgs = [Message(e.to_unit_code, "red", "escalated", ctx)]
        if e.handling_unit_code:
            msgs.append(Message(e.handling_unit_code, "red", "escalated", ctx))
        return msgs
    if isinstance(e, SupervisionOrderIssued):
        return [
            Message(e.issued_to, "red", "order", ctx),
            Message(e.issued_by, "info", "order_issued", ctx),
        ]
    if isinstance(e, CollectiveAlert):
        # the receiving office's leadership and duty desk, the body answerable for the place
        # and the level above: everyone at once, and it must be acknowledged
        recv = e.receiving_office_code
        place = territory_unit(tree, e.matter_location_code)
        above = _parent(tree, recv)
        ctx = {**ctx, "place": _place_name(tree, e.matter_location_code)}
        recipients = [f"{recv}:leaders", _office(tree, recv)]
        if place and place.code != recv:
            recipients += [f"{place.code}:leaders", _office(tree, place.code)]
        if above:
            recipients.append(f"{above.code}:leaders")
        return [Message(r, "urgent", "collective", ctx) for r in _unique(recipients)]
    if isinstance(e, EmergingAlert):
        unit = e.office_code.split("-")[0]
        above = _parent(tree, unit)
        recipients = [e.office_code, f"{unit}:leaders", e.responsible_code]
        if above:
            recipients += [f"{above.code}:leaders", _office(tree, above.code)]
        return [Message(r, "urgent", "emerging", ctx) for r in _unique(recipients)]
    if isinstance(e, RepeatWaveAlert):
        return [
            Message(r, "red", "repeat_wave", ctx)
            for r in _unique([e.holder_code, e.supervising_code])
        ]
    if isinstance(e, AlertEscalated):
        return [
            Message(r, "urgent", "alert_escalated", ctx)
            for r in _unique([f"{e.to_unit_code}:leaders", _office(tree, e.to_unit_code)])
        ]
    if isinstance(e, SkipLevelAlert):
        return [
            Message(e.responsible_code, "red", "skip_level", ctx),
            Message(e.receiving_office_code, "red", "skip_level", ctx),
        ]
    if isinstance(e, CaseLinked):
        msgs = [Message(e.receiving_office_code, "info", "linked", ctx)]
        if e.holder_code:
            msgs.append(Message(e.holder_code, "yellow", "linked_holder", ctx))
        return msgs
    return []


def _unique(codes: list[str | None]) -> list[str]:
    out: list[str] = []
    for c in codes:
        if c and c not in out:
            out.append(c)
    return out
