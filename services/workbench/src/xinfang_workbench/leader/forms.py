"""The leader's forms and lists, pure: 签收 (with a note), revealing a sealed informant
(with a reason), and the alerts as a person reads them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ALERT_KINDS = {"collective": "集体访预警", "emerging": "群体性苗头预警"}
NOTE_MAX = 500


def alert_kind(kind: str | None) -> str:
    return ALERT_KINDS.get(kind or "", "预警")


def ack_body(values: Mapping[str, str]) -> dict[str, Any]:
    """签收: the note (处置意见) as typed; none when left empty."""
    note = values.get("note", "").strip()
    return {"note": note or None}


def ack_errors(values: Mapping[str, str]) -> dict[str, str]:
    """What the form can say before the API is asked (notify's own limit, 500 characters:
    its 422 names the field ``note`` too)."""
    if len(values.get("note", "").strip()) > NOTE_MAX:
        return {"note": f"处置意见不能超过{NOTE_MAX}个字"}
    return {}


def reveal_body(values: Mapping[str, str]) -> dict[str, Any]:
    """查阅检举人身份: the reason goes to intake's audit (at least 5 characters: intake checks)."""
    return {"reason": values.get("reason", "").strip()}


def split_alerts(
    alerts: Sequence[Mapping[str, Any]],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(awaiting a signature, already signed): the open ones first, the newest first."""
    waiting = [a for a in alerts if not a.get("acknowledged_at")]
    signed = [a for a in alerts if a.get("acknowledged_at")]
    return (
        sorted(waiting, key=lambda a: str(a.get("raised_at")), reverse=True),
        sorted(signed, key=lambda a: str(a.get("acknowledged_at")), reverse=True),
    )
