"""Supervision's API contract without a database: each lifecycle action takes its own typed
body (the action named in the URL), a bad one is the platform's 422 naming the field, and the
API's document describes every answer."""

from __future__ import annotations

import typing
from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from xinfang_shared.web import validation_handler
from xinfang_supervision.cases import commands as c
from xinfang_supervision.cases.access import action_body
from xinfang_supervision.cases.schemas import ActionBody, ReplyBody
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.lifecycle import REPLY_OUTCOMES, Action
from xinfang_supervision.main import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.add_exception_handler(RequestValidationError, validation_handler)

    @app.post("/act/{action}")
    async def act(
        action: Action, body: Annotated[ActionBody, Depends(action_body)]
    ) -> dict[str, Any]:
        command = body.command("经办人")
        return {"command": type(command).__name__, **vars(command)}

    return TestClient(app)


def test_todays_bodies_become_typed_commands(client: TestClient) -> None:
    r = client.post("/act/decline", json={"reason": "不属于信访事项"})
    assert r.status_code == 200
    assert r.json() == {"command": "Decline", "actor": "经办人", "reason": "不属于信访事项"}
    r = client.post("/act/extend", json={})  # days and reason from the pending request
    assert r.json() == {"command": "Extend", "actor": "经办人", "days": None, "reason": None}
    reply = {"outcome": "不予支持", "facts": "f", "reasons": "r", "legal_basis": "l"}
    assert client.post("/act/reply", json=reply).json()["command"] == "Reply"
    assert client.post("/act/accept", json={"actor": "代办人"}).json()["command"] == "Accept"


@pytest.mark.parametrize(
    ("action", "body", "field", "code"),
    [
        ("decline", {}, "reason", "missing"),
        ("decline", {"reason": ""}, "reason", "blank"),
        ("decline", {"reason": "   "}, "reason", "invisible_text"),
        (
            "reply",
            {"outcome": "同意", "facts": "f", "reasons": "r", "legal_basis": "l"},
            "outcome",
            "literal_error",
        ),
        ("answer_review", {}, "outcome", "missing"),
        ("extend", {"days": "7"}, "days", "int_type"),
        ("extend", {"days": 20, "approver": "张局长"}, "approver", "extra_forbidden"),
        ("accept", {"note": "x"}, "note", "extra_forbidden"),
        ("accept", {"action": "close"}, "action", "extra_forbidden"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field_in_chinese_and_english(
    client: TestClient, action: str, body: dict[str, Any], field: str, code: str
) -> None:
    r = client.post(f"/act/{action}", json=body)
    assert r.status_code == 422, r.text
    [error] = [e for e in r.json()["errors"] if e["field"] == field]
    assert error["code"] == code and error["message"] and error["message_en"]


def test_a_field_of_the_old_common_body_is_ignored_where_the_action_has_no_use_for_it(
    client: TestClient,
) -> None:
    """Until release 14 one body served every action: clients sending ``reason`` or ``text``
    with an acceptance were accepted then and are not refused now."""
    r = client.post("/act/accept", json={"reason": "材料齐全", "text": "旧字段"})
    assert r.status_code == 200, r.text
    assert r.json() == {"command": "Accept", "actor": "经办人"}


def test_a_body_that_is_not_an_object_is_a_422(client: TestClient) -> None:
    assert client.post("/act/accept", content=b"[1]").status_code == 422
    assert client.post("/act/accept", content=b"{").status_code == 422
    assert client.post("/act/accept").status_code == 422


def test_the_reply_schema_offers_the_laws_three_outcomes() -> None:
    outcome = ReplyBody.model_fields["outcome"].annotation
    assert set(typing.get_args(outcome)) == REPLY_OUTCOMES
    assert c.Reply  # the command the body becomes


def test_the_api_document_describes_every_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XF_DEMO", "true")
    doc = create_app(SupervisionSettings()).openapi()
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        for method, op in ops.items():
            schema = op["responses"]["200"]["content"]["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref and ref.endswith("Read"), (method, path, schema)
    case = doc["components"]["schemas"]["CaseRead"]["properties"]
    assert {"status_label", "category_label", "deadlines", "history", "orders"} <= set(case)
    body = doc["paths"]["/api/v1/cases/{case_id}/actions/{action}"]["post"]["requestBody"]
    variants = body["content"]["application/json"]["schema"]["anyOf"]
    assert {v["title"] for v in variants} == {a.value for a in Action}


def test_answers_write_times_as_they_did_before_they_were_typed() -> None:
    """``+00:00`` as ``datetime.isoformat()`` wrote them (and the other services still do),
    not pydantic's ``Z``: a client comparing strings keeps working."""
    from datetime import UTC, datetime

    from xinfang_supervision.cases.schemas import HistoryRead

    at = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    row = HistoryRead(
        id=1,
        case_id="c",
        at=at,
        actor="经办人",
        action="accept",
        action_label="受理",
        from_state="routed",
        to_state="accepted",
        note=None,
        detail=None,
    )
    assert row.model_dump(mode="json")["at"] == at.isoformat() == "2026-12-01T08:30:00+00:00"


def test_a_text_too_short_is_counted_in_characters_not_items() -> None:
    """A length limit checked after a text validator (MultiLine) is reported as a text's."""
    from pydantic import ValidationError
    from xinfang_shared.web import describe
    from xinfang_supervision.cases.schemas import ExtensionRequestBody

    with pytest.raises(ValidationError) as info:
        ExtensionRequestBody(days=5, reason="")
    (problem,) = [describe(e) for e in info.value.errors()]
    assert problem["field"] == "reason"
    assert problem["message"] == "长度不足，至少 2 个字符"
