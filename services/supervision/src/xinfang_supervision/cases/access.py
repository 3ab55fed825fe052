"""Who sees and who acts on a case, for the views: a caller sees its org subtree (a handler its
own unit's cases), a case outside it is answered exactly as a missing one (404), and each step
belongs to the roles and units :mod:`xinfang_supervision.permissions` gives it (403)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from xinfang_shared import org
from xinfang_shared.auth.deps import AuthHTTPError, not_found_outside_scope
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import Scope
from xinfang_shared.http import error_body

from xinfang_supervision import permissions
from xinfang_supervision.cases import service
from xinfang_supervision.cases.aggregate import CaseNotFound
from xinfang_supervision.cases.oversight import display_name, rereviewing_office, reviewing_office
from xinfang_supervision.cases.schemas import ACTION_BODIES, ActionBody
from xinfang_supervision.lifecycle import Action

CASE_NOT_FOUND = error_body("not_found", "案件不存在", "no such case")
ORDER_NOT_FOUND = error_body("not_found", "督办单不存在", "no such supervision order")
# Case and order ids are UUIDs (or, from other deployments, short codes): anything else (NUL,
# control characters, a 300-character string) cannot name one and is answered as missing.
ID_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,64}")


def well_formed(identifier: str) -> bool:
    return ID_PATTERN.fullmatch(identifier) is not None


def visible(scope: Scope, case: Any) -> bool:
    """A handler sees the cases its own unit handles; everyone else the cases handled or
    supervised inside their subtree."""
    if scope.principal.role is Role.HANDLER:
        return scope.may_handle(case.unit_code)
    return scope.covers(case.unit_code) or bool(
        case.supervising_code and scope.covers(case.supervising_code)
    )


async def case_in_scope_or_404(*, session: Any, case_id: str, scope: Scope) -> Any:
    if not well_formed(case_id):
        not_found_outside_scope(CASE_NOT_FOUND)
    try:
        case = await service.get_case_or_raise(session=session, case_id=case_id)
    except CaseNotFound:
        not_found_outside_scope(CASE_NOT_FOUND)
    if not visible(scope, case):
        not_found_outside_scope(CASE_NOT_FOUND)
    await session.rollback()  # the check's read; a step runs in a transaction of its own
    return case


REVIEW_STEPS = {"request_review", "answer_review"}
REREVIEW_STEPS = {"request_rereview", "answer_rereview", "hearing"}


def step_body(tree: org.OrgTree, unit_code: str, step: str) -> str:
    """The body a step belongs to: the reviewing office for review steps (the office above the
    handling body; for a re-review the one above that), else the handling body."""
    if step in REREVIEW_STEPS:
        return rereviewing_office(tree, unit_code)
    if step in REVIEW_STEPS:
        return reviewing_office(tree, unit_code)
    return unit_code


def may_take(
    tree: org.OrgTree, scope: Scope, unit_code: str, step: str, body: str | None = None
) -> None:
    """403 (with who may) unless the caller may take ``step`` on a case ``unit_code`` holds
    (``body``: the body the step belongs to, when the case's deadlines decide it)."""
    body = body or step_body(tree, unit_code, step)
    try:
        permissions.check(
            step, scope=scope, tree=tree, body=body, body_name=display_name(tree, body)
        )
    except permissions.Forbidden as exc:
        raise AuthHTTPError(403, error_body("forbidden", exc.zh, exc.en)) from None


# --- the action's body: the URL names the action, the body gives its fields -----------------

_ACTION_BODY: TypeAdapter[ActionBody] = TypeAdapter(ActionBody)
# Until release 14 every action took one body with all of these fields: a client that still
# sends one of them to an action that does not use it had it accepted and is not refused now;
# the field is dropped. A field never in that body is refused (422), as it always was.
_SHARED_FIELDS = frozenset(
    {"actor", "reason", "days", "outcome", "facts", "reasons", "legal_basis", "text"}
)
_OWN_FIELDS = {
    model.model_fields["action"].annotation.__args__[0]: frozenset(model.model_fields)  # type: ignore[union-attr]
    for model in ACTION_BODIES
}


def _invalid(kind: str, msg: str, loc: tuple[Any, ...] = ("body",)) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": loc, "msg": msg, "input": None}])


async def action_body(action: Action, request: Request) -> ActionBody:
    """The typed body of ``action`` (the union's member its ``action`` names): a 422 naming
    each bad field, like any body FastAPI validates."""
    raw = await request.body()
    if not raw:
        raise _invalid("missing", "Field required")
    try:
        fields = json.loads(raw)
    except ValueError:
        raise _invalid("json_invalid", "JSON decode error") from None
    if not isinstance(fields, dict):
        raise _invalid("model_type", "Input should be an object")
    if fields.get("action", action.value) != action.value:
        raise _invalid("extra_forbidden", "the action is the URL's", ("body", "action"))
    own = _OWN_FIELDS[action.value]
    fields = {k: v for k, v in fields.items() if k in own or k not in _SHARED_FIELDS}
    try:
        return _ACTION_BODY.validate_python({**fields, "action": action.value})
    except ValidationError as exc:
        # the union's tag is not a field the client wrote: "reason", not "decline.reason"
        errors = [{**e, "loc": ("body", *e["loc"][1:])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


def action_body_openapi() -> dict[str, Any]:
    """The request body of ``POST /cases/{case_id}/actions/{action}`` for the API's document:
    the fields of each action (the action itself is the URL's)."""
    variants = []
    for model in ACTION_BODIES:
        schema = model.model_json_schema()
        schema["properties"].pop("action")
        schema["required"] = [r for r in schema.get("required", []) if r != "action"]
        if not schema["required"]:
            del schema["required"]
        schema["title"] = f"{model.model_fields['action'].annotation.__args__[0]}"  # type: ignore[union-attr]
        variants.append(schema)
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "anyOf": variants,
                        "description": "按 action 填写的字段（action 由地址给出）/ "
                        "the fields of the action named in the URL",
                    }
                }
            },
        }
    }
