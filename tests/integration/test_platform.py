"""The platform's HTTP layer, the same on all five services (xinfang_shared.web): security
headers, the body-size limit, one error body for every refusal (validation, malformed JSON,
Starlette's own 404/405), control characters and 64-bit overflows refused before the
database, the common error answers documented in OpenAPI, /docs served from our own process,
and ``/`` sending people somewhere useful. Real apps on a real database (SQLite, or PostgreSQL
with XF_TEST_DATABASE=postgresql); no broker needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app as intake_app
from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app as notify_app
from xinfang_reports.config import ReportsSettings
from xinfang_reports.main import create_app as reports_app
from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app as routing_app
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app as supervision_app

from tests.apps import running
from tests.conftest import Databases, free_port

SECRET = "platform-test-secret-0123456789-abcdefgh"
SERVICES = ("intake", "routing", "supervision", "notify", "reports")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


async def make_app(service: str, databases: Databases, **extra: Any) -> FastAPI:
    common: dict[str, Any] = {
        "XF_AUTH_SECRET": SECRET,
        "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",  # no broker: HTTP works anyway
        "kafka_session_timeout_s": 2,
        **extra,
    }
    url = await databases.new(service)
    if service == "intake":
        return intake_app(IntakeSettings(XF_INTAKE_DATABASE_URL=url, **common))
    if service == "routing":
        return routing_app(RoutingSettings(XF_ROUTING_DATABASE_URL=url, **common))
    if service == "supervision":
        return supervision_app(SupervisionSettings(XF_SUPERVISION_DATABASE_URL=url, **common))
    if service == "reports":
        return reports_app(ReportsSettings(XF_REPORTS_DATABASE_URL=url, **common))
    return notify_app(NotifySettings(XF_NOTIFY_DATABASE_URL=url, **common))


@asynccontextmanager
async def serving(
    service: str, databases: Databases, **extra: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with running(await make_app(service, databases, **extra)) as client:
        yield client


# a POST endpoint with a JSON body on each service that takes one (the service token may call
# it); reports only answers queries
JSON_POST = {
    "intake": "/api/v1/petitions",
    "routing": "/api/v1/classify",
    "supervision": "/api/v1/cases/X/hearing",
    "notify": "/api/v1/alerts/1/ack",
}
# a GET endpoint with an integer query parameter (routing has none: its own text query)
INT_QUERY = {
    "intake": "/api/v1/informant-reveals?limit=",
    "supervision": "/api/v1/cases?limit=",
    "notify": "/api/v1/notifications?after=",
}


def assert_platform_error(r: httpx.Response, status: int, code: str | None = None) -> Any:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) >= {"error", "message", "message_en"}, body
    assert "detail" not in body
    # Chinese first: the message a person reads has Chinese characters
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body
    if code is not None:
        assert body["error"] == code, body
    return body


@pytest.mark.parametrize("service", SERVICES)
async def test_every_service_answers_with_security_headers_and_the_platform_error_body(
    service: str, databases: Databases
) -> None:
    async with serving(service, databases) as client:
        for r in (
            await client.get("/healthz"),
            await client.get("/no/such/page"),
            await client.get("/docs"),
        ):
            assert r.headers["content-security-policy"] == CSP, r.url
            assert r.headers["x-frame-options"] == "DENY"
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"

        assert_platform_error(await client.get("/no/such/page"), 404, "not_found")
        assert_platform_error(await client.delete("/healthz"), 405, "method_not_allowed")
        # a browser's icon request is answered "none", not a 404 in every page's console
        assert (await client.get("/favicon.ico")).status_code == 204

        if service not in JSON_POST:
            return
        malformed = await client.post(
            JSON_POST[service],
            content=b'{"not": json',
            headers={"Content-Type": "application/json"},
        )
        body = assert_platform_error(malformed, 422, "validation_error")
        assert body["errors"][0]["code"] == "json_invalid"
        assert body["errors"][0]["message"] == "请求体不是有效的 JSON"

        undecodable = await client.post(
            JSON_POST[service], content=b"\x16\xff", headers={"Content-Type": "application/json"}
        )
        body = assert_platform_error(undecodable, 422, "validation_error")
        assert body["errors"][0]["code"] == "json_invalid"

        too_big = await client.post(
            JSON_POST[service],
            # over 1 MB; routing's limit fits the largest org tree it accepts (2 MB)
            content=b"[" + b"1," * (1_100_000 if service == "routing" else 600_000) + b"1]",
            headers={"Content-Type": "application/json"},
        )
        assert_platform_error(too_big, 413, "body_too_large")


@pytest.mark.parametrize("service", SERVICES)
async def test_control_characters_and_64_bit_overflows_are_422_before_the_database(
    service: str, databases: Databases
) -> None:
    async with serving(service, databases) as client:
        if service in INT_QUERY:
            r = await client.get(INT_QUERY[service] + str(2**63))
            body = assert_platform_error(r, 422, "validation_error")
            assert body["errors"][0]["code"] == "int_out_of_range"

        if service == "notify":  # the SSE reconnection header is a sequence number
            r = await client.get("/api/v1/stream", headers={"Last-Event-ID": str(2**63)})
            body = assert_platform_error(r, 422, "validation_error")
            assert body["errors"][0]["field"] == "last-event-id"

        r = await client.get("/api/v1/cases/X?x=a%00b")
        body = assert_platform_error(r, 422, "validation_error")
        assert body["errors"][0]["field"] == "x"
        assert body["errors"][0]["code"] == "control_character"
        assert "U+0000" in body["errors"][0]["message"]

        r = await client.get("/api/v1/cases/ABCD%00EFGH")
        assert_platform_error(r, 422, "validation_error")


async def test_intake_refuses_nul_in_paths_forms_and_account_endpoints(
    databases: Databases,
) -> None:
    async with serving("intake", databases) as client:
        for path in (
            "/api/v1/petitions/ABCD%00EFGH",
            "/cx/ABCD%00EFGH",
            "/api/v1/informant-reveals?case_id=AB%00CD",
        ):
            r = await client.get(path)
            assert_platform_error(r, 422, "validation_error")
        r = await client.post(
            "/api/v1/petitions/ABCD%00EFGH/informant", json={"reason": "依法查阅，核实检举内容"}
        )
        assert_platform_error(r, 422, "validation_error")
        r = await client.post(
            "/api/v1/auth/token", data={"username": "admin\x00qinghe", "password": "whatever-1"}
        )
        body = assert_platform_error(r, 422, "validation_error")
        assert body["errors"][0]["field"] == "username"
        # a multipart form without its boundary: invalid input (422), not a bare 400
        r = await client.post(
            "/api/v1/auth/token",
            content=b"grant_type=password&username=&password=",
            headers={"Content-Type": "multipart/form-data"},
        )
        body = assert_platform_error(r, 422, "validation_error")
        assert body["errors"][0]["code"] == "body_unreadable"
        r = await client.patch("/api/v1/users/a%00b", json={"active": False})
        assert_platform_error(r, 422, "validation_error")
        # a JSON body's text goes through the schemas' SingleLine: NUL in a display name
        r = await client.post(
            "/api/v1/users",
            json={
                "username": "zero.width",
                "display_name": "\u200b\u200b",
                "password": "long-enough-1",
                "role": "registrar",
                "org_code": "339922",
            },
        )
        assert r.status_code in (403, 422)  # the service token is no admin: 403 comes first


@pytest.mark.parametrize("service", SERVICES)
async def test_openapi_documents_the_common_error_answers_of_every_operation(
    service: str, databases: Databases
) -> None:
    async with serving(service, databases) as client:
        doc = (await client.get("/openapi.json")).json()
        assert "PlatformError" in doc["components"]["schemas"]
        for path, item in doc["paths"].items():
            for method, op in item.items():
                codes = set(op["responses"])
                if "health" in op.get("tags", []):  # the probes answer their own body
                    assert "503" in codes and path in ("/healthz", "/readyz")
                    continue
                assert {"404", "422", "503"} <= codes, (method, path, codes)
                if op.get("security"):
                    assert {"401", "403"} <= codes, (method, path, codes)
                if method in ("post", "put", "patch"):
                    assert "413" in codes, (method, path, codes)
                ref = op["responses"]["422"]["content"]["application/json"]["schema"]
                assert ref == {"$ref": "#/components/schemas/PlatformError"}
                for param in op.get("parameters", []):
                    if param["in"] == "header":
                        continue
                    options = param["schema"].get("anyOf") or [param["schema"]]
                    for option in options:
                        if option.get("type") == "string":  # control characters are refused
                            assert "pattern" in option or "enum" in option, (path, param)
        # a wrong method names every method of the path, not only one route's
        users = "/api/v1/auth/me" if service != "intake" else "/api/v1/users"
        methods = {m.upper() for m in doc["paths"].get(users, {})}
        if methods:
            r = await client.request("OPTIONS", users)
            assert r.status_code == 405
            assert set(r.headers["allow"].split(", ")) == methods


@pytest.mark.parametrize("service", SERVICES)
async def test_docs_are_served_from_our_own_process(service: str, databases: Databases) -> None:
    async with serving(service, databases) as client:
        page = await client.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert "cdn" not in page.text.lower() and "https://" not in page.text
        assert "<script>" not in page.text  # no inline script: the CSP allows none
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "docs-init.js"):
            assert f"/static/platform/{asset}" in page.text
            r = await client.get(f"/static/platform/{asset}")
            assert r.status_code == 200 and len(r.content) > 100, asset
        assert (await client.get("/redoc")).status_code == 404  # it would load from a CDN


async def test_the_root_sends_people_to_the_right_page(databases: Databases) -> None:
    async with serving("intake", databases) as client:
        r = await client.get("/", headers={"Accept": "text/html"})
        assert r.status_code in (302, 303, 307) and r.headers["location"] == "/cx"
        r = await client.get("/", headers={"Accept": "application/json"})
        assert r.status_code == 200
        links = {link["href"]: link["title"] for link in r.json()["links"]}
        assert "/cx" in links and "/docs" in links
        assert "查询" in links["/cx"]
    for service in ("routing", "supervision"):
        async with serving(service, databases) as client:
            r = await client.get("/", headers={"Accept": "text/html"})
            assert r.status_code in (302, 303, 307) and r.headers["location"] == "/docs"


async def test_the_registration_rate_limit_is_per_account_whatever_client_id_it_sends(
    databases: Databases,
) -> None:
    from tests.integration.test_intake import petition

    extra = {"XF_INTAKE_RATE_PER_CLIENT": 0.01, "XF_INTAKE_BURST_PER_CLIENT": 2}
    now = datetime.now(UTC)
    desk, other = (
        {
            "Authorization": "Bearer "
            + issue_token(
                Principal(name, "登记员", Role.REGISTRAR, "339922"),
                secret=SECRET,
                ttl_s=600,
                now=now,
            )
        }
        for name in ("desk.a", "desk.b")
    )

    async def register(headers: dict[str, str], client_id: str) -> int:
        r = await client.post(
            "/api/v1/petitions", json=petition(), headers={**headers, "X-Client-Id": client_id}
        )
        return r.status_code

    async with serving("intake", databases, **extra) as client:
        # a person's account is one bucket, whatever X-Client-Id it sends
        assert [await register(desk, f"desk-{i}") for i in range(3)] == [201, 201, 429]
        assert await register(other, "desk-0") == 201
        # a service relaying for many desks: one bucket per desk it names
        service = {"Authorization": client.headers["Authorization"]}
        assert [await register(service, "desk-a") for _ in range(3)] == [201, 201, 429]
        assert await register(service, "desk-b") == 201
