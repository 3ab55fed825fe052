"""Bad input to supervision's API is a 4xx with the platform's body, never a 5xx (issue #13 item
6): NUL and other control characters, ids that cannot exist, numbers out of range, wrong types.
Run on PostgreSQL too (XF_TEST_DATABASE=postgresql), where NUL cannot even be stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_supervision import case_of, routed, supervision
from tests.kafka_helpers import produce

BAD_IDS = ["ABCD%00EFGH", "x" * 300, "%E2%80%AE", "..%2F..%2Fetc", "%20"]


async def test_bad_ids_and_parameters_are_4xx_not_5xx(broker: str, databases: Databases) -> None:
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with running(app) as client:
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="x",
                supervising="339922-xfj",
                at=app.state.runtime.clock.now(),
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        for bad in BAD_IDS:
            for method, path, body in [
                ("GET", f"/api/v1/cases/{bad}", None),
                ("GET", f"/api/v1/cases/{bad}/deadlines", None),
                ("POST", f"/api/v1/cases/{bad}/actions/accept", {}),
                ("POST", f"/api/v1/cases/{bad}/leader", {"leader": "李"}),
                ("POST", f"/api/v1/cases/{bad}/hearing", {"days": 3}),
                ("POST", f"/api/v1/cases/{bad}/extension-request", {"days": 3, "reason": "理由"}),
                ("POST", f"/api/v1/orders/{bad}/feedback", {"text": "已反馈"}),
            ]:
                r = await client.request(method, path, json=body)
                assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
        for query in [
            "/api/v1/cases?status=ac%00cepted",
            "/api/v1/cases?status=nonsense",
            "/api/v1/cases?limit=99999999999999999999999",
            "/api/v1/cases?limit=-1",
            "/api/v1/reports/overdue?as_of=0001-01-01",
            "/api/v1/reports/overdue?as_of=9999-12-31",
            "/api/v1/reports/overdue?as_of=99999-01-01",
            "/api/v1/alerts/emerging?limit=18446744073709551616",
        ]:
            r = await client.get(query)
            assert r.status_code < 500, (query, r.status_code, r.text)
        assert (await client.get("/api/v1/cases?status=nonsense")).status_code == 422
        notice = {
            "document": "通知",
            "holidays": [{"name": "元旦", "start": "2027-01-01", "end": "2027-01-01"}],
        }
        for year, body in [
            ("99999999999999999999999", notice),
            ("-1", notice),
            ("abc", notice),
            ("2027", {**notice, "document": "a\u0000b"}),
            ("2027", {**notice, "holidays": [{"name": "x", "start": "2027-02-30", "end": "x"}]}),
            ("2027", {**notice, "workdays": ["0000-01-01"]}),
            ("2027", {**notice, "extra": 1}),
        ]:
            r = await client.put(f"/api/v1/admin/holiday-notices/{year}", json=body)
            assert 400 <= r.status_code < 500, (year, body, r.status_code, r.text)


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("decline", {"reason": "含\u0000字符"}),
        ("decline", {"reason": "\u200b\u200b"}),
        ("accept", {"actor": "a\u202eb"}),
        ("extend", {"days": 10**30, "reason": "r"}),
        ("extend", {"days": True, "reason": "r"}),
        ("extend", {"days": "7", "reason": "r"}),
        ("extend", {"days": 7.0, "reason": "r"}),
        ("decline", {"reason": ["not", "a", "string"]}),
    ],
)
async def test_bad_bodies_are_refused_and_change_nothing(
    broker: str, databases: Databases, action: str, body: dict[str, Any]
) -> None:
    app = await supervision(databases, broker)
    cid = str(uuid.uuid4())
    async with running(app) as client:
        await produce(
            broker,
            "case.routed",
            routed(
                cid,
                to="339922-zrzy",
                to_name="x",
                supervising="339922-xfj",
                at=app.state.runtime.clock.now(),
            ),
            key=cid.encode(),
        )
        await eventually(lambda: case_of(client, cid), timeout=30)
        if action == "extend":
            assert (
                await client.post(f"/api/v1/cases/{cid}/actions/accept", json={})
            ).status_code == 200
        before = await case_of(client, cid)
        r = await client.post(f"/api/v1/cases/{cid}/actions/{action}", json=body)
        assert r.status_code == 422, r.text
        assert await case_of(client, cid) == before


async def test_a_report_date_is_a_written_date_and_refused_steps_are_documented(
    broker: str, databases: Databases
) -> None:
    """`?as_of=0` was read as 1970-01-01 (a number of seconds); a step the case's state does
    not allow answers 409, which the API's documentation now lists (schemathesis found it
    undocumented)."""
    app = await supervision(databases, broker)
    async with running(app) as client:
        for bad in ("0", "2.2e-308", "1733011200", "2026-1-1"):
            r = await client.get("/api/v1/reports/overdue", params={"as_of": bad})
            assert r.status_code == 422, (bad, r.text)
            assert r.json()["errors"][0]["message"].startswith("日期应写作")
        ok = await client.get("/api/v1/reports/overdue", params={"as_of": "2026-12-01"})
        assert ok.status_code == 200 and ok.json()["as_of"] == "2026-12-01"

        doc = (await client.get("/openapi.json")).json()["paths"]
        for path in (
            "/api/v1/cases/{case_id}/actions/{action}",
            "/api/v1/cases/{case_id}/hearing",
            "/api/v1/cases/{case_id}/extension-request",
            "/api/v1/cases/{case_id}/leader",
            "/api/v1/orders/{order_id}/feedback",
        ):
            assert "409" in doc[path]["post"]["responses"], path
