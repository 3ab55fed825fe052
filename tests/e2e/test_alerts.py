"""End to end, real processes on the real broker: collective visits and emerging incidents reach
the right people within a second, by SSE, e-mail (aiosmtpd) and a group robot (a local HTTP
server); an unacknowledged alert escalates when the manual clock passes the hour."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from deploy.run import SERVICES, Stack
from tests.conftest import Databases, eventually
from tests.e2e.stacks import (
    DEMO_USERS_ENV,
    auth_headers,
    browser_page,
    demo_account,
    launched,
    log_in_to_dashboard,
    sse_frames,
)
from tests.peers import CollectingHandler, FakeProviders, parse_mail

pytestmark = pytest.mark.e2e

COUNTY_LEADER, CITY_LEADER = "wang@qinghe.example", "zhou@jianglin.example"


@pytest.fixture
async def stack(
    tmp_path: Path,
    databases: Databases,
    providers: FakeProviders,
    smtp_server: tuple[CollectingHandler, int],
) -> AsyncIterator[Stack]:
    directory = {
        "people": [
            {
                "id": "qinghe-leader",
                "name": "王县长",
                "unit": "339922",
                "roles": ["leader"],
                "channels": ["inbox", "email"],
                "email": COUNTY_LEADER,
            },
            {
                "id": "city-leader",
                "name": "周市长",
                "unit": "339900",
                "roles": ["leader"],
                "channels": ["inbox", "email"],
                "email": CITY_LEADER,
            },
        ],
        "robots": [
            {
                "unit": "339922",
                "kind": "wecom",
                "levels": ["urgent"],
                "url": f"{providers.base}/cgi-bin/webhook/send?key=qinghe",
            },
        ],
    }
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump(directory, allow_unicode=True), encoding="utf-8")
    env = {
        **DEMO_USERS_ENV,
        "XF_NOTIFY_DIRECTORY_FILE": str(path),
        "XF_SMTP_HOST": "127.0.0.1",
        "XF_SMTP_PORT": str(smtp_server[1]),
        "XF_QUIET_HOURS": "",
        "XF_DELIVERY_BACKOFF_S": "0.2",
        "XF_ALERT_CHECK_S": "1",
        "XF_ALERT_ACK_TIMEOUT_MIN": "60",
    }
    async with launched(tmp_path, databases, env) as s:
        yield s


def petition(i: int, persons: int = 1) -> dict[str, Any]:
    return {
        "channel": "visit",
        "petitioners": [{"name": f"村民{i}", "phone": f"139057100{i:02d}"}],
        "persons": persons,
        "receiving_office_code": "339922",
        "matter_location_code": "339922101201",
        "category": "土地征收补偿",
        "title": "承包地征收补偿款未足额发放",
        "content": f"本人（{i}号）在西岗村的承包地被征收，补偿款至今未足额发放，请求督促落实。",
    }


def posts(providers: FakeProviders, needle: str) -> list[Any]:
    return [
        r
        for r in providers.requests
        if r.path.endswith("/webhook/send") and needle in r.body["markdown"]["content"]
    ]


def mails(smtp: tuple[CollectingHandler, int], to: str, needle: str) -> list[Any]:
    found = []
    for env in smtp[0].envelopes:
        msg = parse_mail(env)
        if to in env.rcpt_tos and needle in str(msg["Subject"]) + msg.get_content():
            found.append(msg)
    return found


async def test_collective_and_emerging_alerts_reach_people_and_escalate(
    stack: Stack, providers: FakeProviders, smtp_server: tuple[CollectingHandler, int]
) -> None:
    intake, supervision, notify = stack.url("intake"), stack.url("supervision"), stack.url("notify")
    providers.wecom_script = [(500, {"errmsg": "busy"}), (502, {"errmsg": "bad gateway"})]
    county: list[dict[str, Any]] = []
    city: list[dict[str, Any]] = []
    async with httpx.AsyncClient(timeout=30, headers=auth_headers()) as client:
        streams = []
        for frames, org in ((county, "339922"), (city, "339900")):
            ready = asyncio.Event()
            url = f"{notify}/api/v1/stream?org={org}"
            streams.append(asyncio.create_task(sse_frames(client, url, frames, ready)))
            await asyncio.wait_for(ready.wait(), 10)

        # (1) a visit of 7 people: a collective alert, live on the dashboard, by mail and robot
        r = await client.post(intake + "/api/v1/petitions", json=petition(90, persons=7))
        posted = time.monotonic()
        assert r.status_code == 201 and r.json()["collective"] is True
        visit = r.json()
        first = await eventually(
            lambda: [f for f in county if f["case_id"] == visit["case_id"]], timeout=30
        )
        latency = time.monotonic() - posted
        print(json.dumps({"collective_alert_on_sse_s": round(latency, 3)}))
        assert first[0]["level"] == "urgent" and "集体访预警：7人" in first[0]["title"]
        await eventually(
            lambda: mails(smtp_server, COUNTY_LEADER, visit["case_number"]), timeout=30
        )
        # the robot failed twice, then took it: exactly one delivery, three attempts
        rows = await eventually(
            lambda: _sent(client, notify, visit["case_id"], "wecom"), timeout=30
        )
        assert len(rows) == 1 and rows[0]["attempts"] == 3
        robot = posts(providers, "集体访预警")
        assert len(robot) == 3 and len({p.headers["X-Xinfang-Delivery"] for p in robot}) == 1

        # (2) six petitions from one village about land compensation within the hour:
        #     exactly one emerging alert (5 distinct petitioners cross the threshold)
        cases = []
        for i in range(1, 7):
            r = await client.post(intake + "/api/v1/petitions", json=petition(i))
            assert r.status_code == 201, r.text
            cases.append(r.json())
        alerts = await eventually(lambda: _emerging(client, supervision, len(cases)), timeout=30)
        assert len(alerts) == 1
        assert alerts[0]["place_code"] == "339922101201"
        assert {m["case_id"] for m in alerts[0]["members"]} <= {c["case_id"] for c in cases} | {
            visit["case_id"]
        }
        await eventually(lambda: [f for f in county if "群体性苗头预警" in f["title"]], timeout=30)
        await asyncio.sleep(2)  # nothing more comes: no alert storm
        assert len((await client.get(supervision + "/api/v1/alerts/emerging")).json()) == 1

        # (3) nobody acknowledged the collective alert: an hour on, it goes up to the city
        cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance", "61m", "--json"]
        for name in SERVICES:
            cmd += ["--wait", stack.url(name) + "/healthz"]
        out = await asyncio.to_thread(
            subprocess.run, cmd, env=stack.env, capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stdout + out.stderr
        up = await eventually(
            lambda: [
                f
                for f in city
                if f["case_id"] == visit["case_id"] and f["source_event_type"] == "alert.escalated"
            ],
            timeout=30,
        )
        assert "已提级" in up[0]["title"] and up[0]["recipient"] == "339900:leaders"
        await eventually(lambda: mails(smtp_server, CITY_LEADER, "无人签收"), timeout=30)
        # the county's dashboard shows its own things only, not the city leadership's copy
        assert not [f for f in county if f["recipient"].startswith("339900")]
        # the city leader logs in to the dashboard (headless Chromium) and acknowledges it
        # there, which stops it; the acknowledgement is theirs, as logged in
        leader = demo_account("city.leader")
        signed = f"{leader['display_name']}（city.leader）"
        await _acknowledge_in_browser(
            f"{notify}/?org=339900", visit["case_number"], leader, signed, stack.var / "ack.png"
        )
        state = await eventually(
            lambda: _alert(client, notify, visit["case_id"], acknowledged=True), timeout=15
        )
        assert state["acknowledged_by"] == signed and state["escalations"] == 1
        for task in streams:
            task.cancel()


async def _alert(
    client: httpx.AsyncClient, notify: str, alert_id: str, *, acknowledged: bool
) -> Any:
    for a in (await client.get(notify + "/api/v1/alerts")).json():
        if a["alert_id"] == alert_id and (a["acknowledged_at"] is not None) == acknowledged:
            return a
    return None


# The platform's page policy: the dashboard must work with no inline script, style or handler.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'"
)
WATCH_CSP = """window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective));"""


async def _with_csp(route: Any) -> None:
    """Serve every page with the strict policy (whatever the service sends itself)."""
    if route.request.resource_type != "document":  # the policy is the page's (and SSE streams)
        await route.continue_()
        return
    response = await route.fetch(max_redirects=0)  # the browser follows them itself
    await route.fulfill(
        response=response, headers={**response.headers, "content-security-policy": CSP}
    )


async def _acknowledge_in_browser(
    url: str, case_number: str, account: dict[str, str], signed: str, screenshot: Path
) -> None:
    async with browser_page() as page:
        await page.set_viewport_size({"width": 1366, "height": 768})
        await page.route("**/*", _with_csp)
        await page.add_init_script(WATCH_CSP)
        await log_in_to_dashboard(page, url, account["username"], account["password"])
        assert page.url.endswith("/?org=339900")  # back where the login began
        assert account["display_name"] in await page.inner_text("#who")
        item = (
            page.locator("li.urgent")
            .filter(has_text="预警未签收，已提级")
            .filter(has_text=case_number)
            .first
        )
        await item.wait_for(timeout=15_000)
        assert "江临市领导" in await item.inner_text()  # recipients by name, not 339900:leaders
        assert "339900:leaders" not in await page.inner_text("#list")
        await item.get_by_role("button", name="签收").click()
        await page.get_by_text(f"已签收：{signed}").first.wait_for(timeout=15_000)
        await page.screenshot(path=str(screenshot))
        # after a reload the alert is still signed for: no 签收 button comes back
        await page.reload()
        again = (
            page.locator("li").filter(has_text="预警未签收，已提级").filter(has_text=case_number)
        )
        await again.first.wait_for(timeout=15_000)
        await page.get_by_text(f"已签收：{signed}").first.wait_for(timeout=15_000)
        assert await again.get_by_role("button", name="签收").count() == 0
        assert await page.evaluate("window.__csp") == []  # nothing the policy had to block
        await page.unroute_all(behavior="ignoreErrors")


async def _sent(client: httpx.AsyncClient, notify: str, case_id: str, channel: str) -> Any:
    rows = (
        await client.get(
            notify + "/api/v1/deliveries", params={"case_id": case_id, "channel": channel}
        )
    ).json()
    return rows if rows and all(r["status"] == "sent" for r in rows) else None


async def _emerging(client: httpx.AsyncClient, supervision: str, n: int) -> Any:
    alerts = (await client.get(supervision + "/api/v1/alerts/emerging")).json()
    return alerts or None
