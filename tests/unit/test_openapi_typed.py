"""Every data endpoint of intake, routing, supervision and notify (the shared auth and health routers
included) declares what it answers: each 2xx JSON response in ``/openapi.json`` has a schema
with named fields (or a list of such), never an untyped ``{}`` or a bare mapping. A client
generated from the document then knows every answer. The live stream (SSE) is no JSON and is
named here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

NOT_JSON = {
    # the live notification stream (text/event-stream). The pages (intake's lookup, notify's
    # dashboard and login) and redirects are not in the document at all.
    ("notify", "get", "/api/v1/stream"),
    # the org tree in use as its YAML file (text/yaml, a download)
    ("routing", "get", "/api/v1/admin/org-tree/source"),
}


def app_of(service: str, tmp_path: Path) -> FastAPI:
    url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
    if service == "intake":
        from xinfang_intake.config import IntakeSettings
        from xinfang_intake.main import create_app as intake_app

        return intake_app(IntakeSettings(database_url=url))
    if service == "routing":
        from xinfang_routing.config import RoutingSettings
        from xinfang_routing.main import create_app as routing_app

        return routing_app(RoutingSettings(database_url=url))
    if service == "supervision":
        from xinfang_supervision.config import SupervisionSettings
        from xinfang_supervision.main import create_app as supervision_app

        return supervision_app(SupervisionSettings(database_url=url))
    from xinfang_notify.config import NotifySettings
    from xinfang_notify.main import create_app as notify_app

    return notify_app(NotifySettings(database_url=url))


def untyped(
    schema: dict[str, Any],
    doc: dict[str, Any],
    *,
    top: bool = True,
    seen: frozenset[str] = frozenset(),
) -> str:
    """Why ``schema`` does not say what the answer holds ("" when it does). An answer is an
    object with named fields (or a list of such); inside it, every field is typed too (a
    mapping of typed values is, e.g. readiness warnings by name)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return ""
        return untyped(doc["components"]["schemas"][name], doc, top=top, seen=seen | {name})
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            for option in schema[key]:
                if option.get("type") == "null":
                    continue
                if why := untyped(option, doc, top=top, seen=seen):
                    return why
            return ""
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return untyped(items, doc, top=top, seen=seen) if items else "a list of anything"
    if kind in ("string", "integer", "number", "boolean"):
        return ""
    if kind == "object" or kind is None:
        fields = schema.get("properties") or {}
        values = schema.get("additionalProperties")
        if not fields:
            if top or not isinstance(values, dict) or not values:
                return "an untyped object" if not values else "a mapping without named fields"
            return untyped(values, doc, top=False, seen=seen)
        for field, sub in fields.items():
            if why := untyped(sub, doc, top=False, seen=seen):
                return f"{field}: {why}"
        return ""
    return f"type {kind!r}"


@pytest.mark.parametrize("service", ["intake", "routing", "supervision", "notify"])
def test_every_json_answer_has_a_schema(service: str, tmp_path: Path) -> None:
    doc = app_of(service, tmp_path).openapi()
    problems = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if (service, method, path) in NOT_JSON:
                continue
            for code, response in op["responses"].items():
                if not code.startswith("2"):
                    continue
                content = response.get("content")
                if content is None:
                    continue  # 204: no body
                if "application/json" not in content:
                    problems.append(f"{method.upper()} {path} {code}: {sorted(content)} only")
                    continue
                why = untyped(content["application/json"].get("schema") or {}, doc)
                if why:
                    problems.append(f"{method.upper()} {path} {code}: {why}")
    assert problems == []


def test_the_pages_and_streams_named_here_exist(tmp_path: Path) -> None:
    """An exception for a path that is gone would hide a new endpoint of that name."""
    known = {
        (service, method, path)
        for service in ("intake", "routing", "supervision", "notify")
        for path, item in app_of(service, tmp_path).openapi()["paths"].items()
        for method in item
    }
    assert NOT_JSON - known == set()
