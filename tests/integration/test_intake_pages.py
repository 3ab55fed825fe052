"""The petitioner's pages (/cx) and status view (issue #13): a late step shows done and late,
and the pages are templates with a stylesheet of their own, working under a strict CSP."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from xinfang_intake.main import create_app
from xinfang_shared.events import CaseStatusChanged, DeadlineSummary, new_event
from xinfang_shared.timeutil import local_date

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_intake import intake_settings, petition
from tests.kafka_helpers import produce


def status_changed(reg: dict[str, Any], **fields: Any) -> bytes:
    data = CaseStatusChanged(
        case_id=reg["case_id"], case_number=reg["case_number"], actor="supervision", **fields
    )
    return new_event(data=data, source="/test/supervision", time=fields["changed_at"]).to_bytes()


async def test_a_late_acceptance_notice_shows_done_and_late_on_the_petitioners_pages(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    async with running(app) as client:
        reg = (await client.post("/api/v1/petitions", json=petition())).json()
        now = app.state.runtime.clock.now()
        today = local_date(now)
        ack_due = today - timedelta(days=3)

        def deadlines(ack: str) -> list[DeadlineSummary]:
            return [
                DeadlineSummary(kind="acceptance", label="受理告知", due_date=ack_due, status=ack),
                DeadlineSummary(
                    kind="handling", label="办理答复", due_date=today + timedelta(days=57),
                    status="open",
                ),
            ]  # fmt: skip

        key = reg["case_id"].encode()
        first = status_changed(
            reg,
            old_status=None,
            new_status="routed",
            changed_at=now - timedelta(days=20),
            deadlines=deadlines("open"),
        )
        accepted = status_changed(
            reg,
            old_status="routed",
            new_status="accepted",
            changed_at=now,
            note="清河县自然资源局已受理",
            deadlines=deadlines("met"),
        )
        await produce(broker, "case.status_changed", first, key=key)
        await produce(broker, "case.status_changed", accepted, key=key)

        async def status() -> Any:
            r = await client.get(f"/api/v1/petitions/{reg['query_code']}")
            doc = r.json()
            return doc if doc["status"] == "accepted" else None

        doc = await eventually(status, timeout=30, what="the acceptance")
        ack, handling = doc["deadlines"]
        assert ack["status"] == "met" and ack["late"] is True and ack["days_late"] == 3
        assert ack["status_label"] == "已完成（超期 3 天）"
        assert ack["done_on"] == today.isoformat()
        assert handling["status_label"] == "进行中" and handling["late"] is False

        page = await client.get(f"/cx/{reg['query_code']}")
        assert page.status_code == 200
        html = page.text
        assert "已完成（超期 3 天）" in html and "受理告知" in html
        assert reg["case_number"] in html and "清河县信访局" in html
        assert f"{ack_due.year}年{ack_due.month:02d}月{ack_due.day:02d}日" in html
        assert "accepted" not in html and "acceptance" not in html  # no raw codes


async def test_the_pages_have_no_inline_script_or_style_and_refuse_odd_codes(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    async with running(app) as client:
        reg = (await client.post("/api/v1/petitions", json=petition())).json()
        for url in ("/cx", f"/cx/{reg['query_code']}", f"/cx/{reg['query_code'].lower()}"):
            r = await client.get(url)
            assert r.status_code == 200, url
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "style-src 'self'" in csp
            html = r.text
            assert not re.search(r"<style|<script(?![^>]*\bsrc=)|\sstyle=|\son\w+=", html), url
            assert '<link rel="stylesheet" href="/cx/static/cx.css">' in html
        css = await client.get("/cx/static/cx.css")
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert ".late" in css.text
        assert (await client.get("/cx/static/..%2fpages.py")).status_code == 404
        assert (await client.get("/cx/static/base.html")).status_code == 404

        # codes that cannot be query codes are not looked up: the form again, in Chinese
        for url in ("/cx/%E2%80%AEABCDEFGH", "/cx/ABCD-EFGH", "/api/v1/petitions/ABCD"):
            r = await client.get(url)
            assert r.status_code == 404, (url, r.text)
        # a control character never reaches the lookup: the platform refuses it first (422)
        for url in ("/cx/ABCD%00EFGH", "/api/v1/petitions/ABCD%00EFGH"):
            r = await client.get(url)
            assert r.status_code == 422 and "控制字符" in r.json()["errors"][0]["message"], url
        r = await client.get("/cx/lookup", params={"code": "../../api/v1/users"})
        assert r.status_code == 404 and "查询码格式不正确" in r.text
        r = await client.get("/cx/lookup", params={"code": f" {reg['query_code'].lower()} "})
        assert r.status_code == 303 and r.headers["location"] == f"/cx/{reg['query_code']}"
