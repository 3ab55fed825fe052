from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from xinfang_shared import events
from xinfang_shared.events import BadEvent, CaseRouted, Envelope, decode, new_event

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def routed(**overrides: object) -> CaseRouted:
    data = {
        "case_id": "c-1",
        "case_number": "339922-2026-000001",
        "hop": 1,
        "action": "转送",
        "from_unit_code": "339900",
        "from_unit_name": "江临市信访局",
        "to_unit_code": "339922:xf",
        "to_unit_name": "清河县信访局",
        "reason": "属地",
        "routed_at": NOW,
        "received_at": NOW,
    }
    data.update(overrides)
    return CaseRouted.model_validate(data)


def test_envelope_is_cloudevents_1_0_with_schema_version_and_case_key() -> None:
    env = new_event(data=routed(), source="/xinfang/routing", time=NOW)
    doc = json.loads(env.to_bytes())
    assert doc["specversion"] == "1.0"
    assert doc["type"] == "case.routed"
    assert doc["subject"] == "c-1"
    assert doc["source"] == "/xinfang/routing"
    assert doc["dataschema"] == "urn:xinfang:schema:case.routed:v1"
    assert doc["schemaversion"] == 1
    assert doc["datacontenttype"] == "application/json"
    assert env.key == b"c-1"
    assert datetime.fromisoformat(doc["time"]) == NOW


def test_roundtrip_preserves_payload() -> None:
    env = new_event(data=routed(), source="/x", time=NOW)
    back = decode(env.to_bytes())
    assert back == env
    assert back.payload() == routed()


def test_consumers_ignore_unknown_fields_in_envelope_and_data() -> None:
    env = new_event(data=routed(), source="/x", time=NOW)
    doc = json.loads(env.to_bytes())
    doc["futureattr"] = "v2 producer"
    doc["data"]["priority"] = "high"
    payload = decode(json.dumps(doc).encode()).payload()
    assert isinstance(payload, CaseRouted)
    assert payload.to_unit_name == "清河县信访局"


def test_every_event_type_named_in_the_issue_has_a_schema() -> None:
    assert set(events.EVENT_TYPES) >= {
        "petition.received",
        "case.routed",
        "case.status_changed",
        "deadline.reminder",
        "deadline.overdue",
        "case.escalated",
        "alert.collective",
        "notification.sent",
    }


@pytest.mark.parametrize(
    "raw",
    [None, b"", b"not json", b"[1,2]", b'{"specversion":"1.0"}', "\xff".encode("latin-1")],
)
def test_undecodable_messages_raise_bad_event(raw: bytes | None) -> None:
    with pytest.raises(BadEvent):
        decode(raw)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        new_event(data=routed(), source="/x", time=datetime(2026, 3, 1, 9, 30))


def test_unknown_type_is_reported() -> None:
    env = new_event(data=routed(), source="/x", time=NOW)
    odd = Envelope.model_validate({**env.model_dump(), "type": "case.teleported"})
    with pytest.raises(events.UnknownEventType):
        odd.payload()
