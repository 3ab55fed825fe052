"""Routing's org-tree admin API and corrections under attack (issue #13): who may load a tree,
what a tree may drop, the audit of every attempt, YAML bombs off the event loop; who may object
in a department's name and where a supervisor may reassign a (confidential) case."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from xinfang_shared.auth.models import Role
from xinfang_shared.org import MAX_TREE_BYTES, default_tree_text

from tests.apps import running
from tests.conftest import Databases, eventually
from tests.integration.test_routing import case, received, routing
from tests.integration.test_scoping import bearer
from tests.kafka_helpers import produce

YAML = {"Content-Type": "application/yaml"}


def who(app: Any, username: str, role: Role, org_code: str) -> dict[str, str]:
    rt = app.state.runtime
    return bearer(rt.settings, rt.clock.now(), username, role, org_code)


def assert_platform_error(r: httpx.Response, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["error"] and body["message"] and body["message_en"], body
    return body


async def test_only_the_top_units_admin_loads_a_tree_as_itself_and_every_attempt_is_audited(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    new = default_tree_text().replace("version: demo-2026.1", "version: demo-2026.9")
    async with running(app) as client:
        v0 = (await client.get("/api/v1/admin/org-tree")).json()
        township = who(app, "liutang.admin", Role.ADMIN, "339922102")
        for headers in (
            township,
            who(app, "qinghe.admin", Role.ADMIN, "339922"),
            who(app, "city.supervisor", Role.SUPERVISOR, "339900"),
            who(app, "city.x", Role.ADMIN, "339900-xfj"),
            {},  # the tests' service account
        ):
            r = await client.put(
                "/api/v1/admin/org-tree?actor=city.admin",
                content=new,
                headers={**YAML, **headers},
            )
            assert_platform_error(r, 403)
        assert (await client.get("/api/v1/admin/org-tree")).json() == v0

        top = who(app, "city.admin", Role.ADMIN, "339900")
        one_unit = 'version: broken\nunits:\n  - {code: "339900", name: 江临市, level: city}\n'
        r = await client.put("/api/v1/admin/org-tree", content=one_unit, headers={**YAML, **top})
        body = assert_platform_error(r, 422)
        assert {
            "path": "departments",
            "message": "没有任何部门",
            "message_en": "no departments",
        } in (body["problems"])
        # every problem at once, each with its path
        two = default_tree_text().replace('parent: "339922"', 'parent: "339977"', 1)
        two = two.replace("version: demo-2026.1", "version: " + "v" * 61)
        r = await client.put("/api/v1/admin/org-tree", content=two, headers={**YAML, **top})
        paths = [p["path"] for p in assert_platform_error(r, 422)["problems"]]
        assert "version" in paths and any(p.endswith(".parent") for p in paths), paths

        r = await client.put(
            "/api/v1/admin/org-tree?actor=someone.else", content=new, headers={**YAML, **top}
        )
        assert r.status_code == 200, r.text
        now = (await client.get("/api/v1/admin/org-tree")).json()
        assert now["version"] == "demo-2026.9" and now["loaded_by"] == "CITY.ADMIN（city.admin）"

        assert_platform_error(
            await client.get("/api/v1/admin/org-tree/audit", headers=township), 403
        )
        audit = (await client.get("/api/v1/admin/org-tree/audit", headers=top)).json()
        outcomes = [(a["outcome"], a["actor"]) for a in audit["entries"]]
        assert outcomes[0] == ("loaded", "CITY.ADMIN（city.admin）")  # newest first
        assert ("forbidden", "LIUTANG.ADMIN（liutang.admin）") in outcomes
        assert [o for o, _ in outcomes].count("invalid") == 2
        assert audit["entries"][0]["version"] == "demo-2026.9"
        assert audit["entries"][0]["forced"] is False and audit["entries"][0]["at"]


async def test_a_tree_dropping_what_holds_open_cases_is_refused_unless_forced_with_a_reason(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    cid, raw = received("清河县柳塘乡柳树湾村的山林被人砍伐，林权证上写得清清楚楚是我家的。")
    text = default_tree_text()
    start = text.index('  - code: "339922-lyj"')
    end = text.index("  - code:", start + 5)
    without_lyj = text[:start] + text[end:]
    without_lyj = without_lyj.replace("version: demo-2026.1", "version: demo-2026.2")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        c = await eventually(lambda: case(client, cid), timeout=30)
        assert c["holder_code"] == "339922-lyj"  # type: ignore[index]
        top = {**YAML, **who(app, "city.admin", Role.ADMIN, "339900")}

        r = await client.put("/api/v1/admin/org-tree", content=without_lyj, headers=top)
        body = assert_platform_error(r, 409)
        assert body["holding"] == [{"code": "339922-lyj", "name": "清河县林业局", "open_cases": 1}]
        assert (await client.get("/api/v1/admin/org-tree")).json()["version"] == "demo-2026.1"

        r = await client.put("/api/v1/admin/org-tree?force=true", content=without_lyj, headers=top)
        assert_platform_error(r, 422)  # forcing needs a reason
        r = await client.put(
            "/api/v1/admin/org-tree?force=true&reason=%E8%AF%95", content=without_lyj, headers=top
        )
        assert_platform_error(r, 422)  # …of two characters at least
        r = await client.put(
            "/api/v1/admin/org-tree?force=true&reason=%E6%9C%BA%E6%9E%84%E6%94%B9%E9%9D%A9%00",
            content=without_lyj,
            headers=top,
        )
        assert_platform_error(r, 422)  # …and no control characters
        r = await client.put(
            "/api/v1/admin/org-tree",
            params={"force": "true", "reason": "机构改革：林业局并入自然资源局"},
            content=without_lyj,
            headers=top,
        )
        assert r.status_code == 200, r.text
        [loaded, refused, *_] = (
            await client.get("/api/v1/admin/org-tree/audit", headers=top)
        ).json()["entries"]
        assert loaded["outcome"] == "loaded" and loaded["forced"] is True
        assert loaded["reason"] == "机构改革：林业局并入自然资源局"
        assert loaded["departments_removed"] == ["339922-lyj"]
        assert loaded["units_removed"] == [] and loaded["units_added"] == []
        assert refused["outcome"] == "invalid"  # the refused attempts are there too
        assert (
            sum(
                1
                for e in (await client.get("/api/v1/admin/org-tree/audit", headers=top)).json()[
                    "entries"
                ]
                if e["outcome"] == "in_use"
            )
            == 1
        )


BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
units: [*h]
"""


async def test_yaml_bombs_and_wrong_shapes_are_refused_while_the_service_keeps_answering(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    async with running(app) as client:
        top = {**YAML, **who(app, "city.admin", Role.ADMIN, "339900")}
        # a large tree takes a while to parse: the loop must keep answering meanwhile
        filler = "".join(
            f'  - {{code: "{339922101000 + i}", name: 村{i}, level: village, parent: "339922101"}}\n'
            for i in range(1, 999)
        )
        big = default_tree_text().replace("units:\n", "units:\n" + filler * 8, 1)
        stop = asyncio.Event()

        async def probe() -> float:
            """The longest wait between two /healthz answers (10 ms apart) meanwhile."""
            worst, last = 0.0, time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                assert (await client.get("/healthz")).status_code == 200
                worst, last = max(worst, time.monotonic() - last), time.monotonic()
            return worst

        probing = asyncio.create_task(probe())
        await asyncio.sleep(0.05)
        slow = asyncio.create_task(client.put("/api/v1/admin/org-tree", content=big, headers=top))
        bomb = asyncio.create_task(client.put("/api/v1/admin/org-tree", content=BOMB, headers=top))
        await asyncio.gather(slow, bomb)
        stop.set()
        worst = await probing
        assert worst < 0.5, f"/healthz took {worst:.2f}s while a tree was parsed"
        body = assert_platform_error(bomb.result(), 422)
        assert "别名" in body["problems"][0]["message"]
        assert_platform_error(slow.result(), 422)  # duplicate village codes

        for doc in ("units: 5", "[1, 2]", "~", "units:\n  - {code: [1], name: {a: b}}\n"):
            r = await client.put("/api/v1/admin/org-tree", content=doc, headers=top)
            assert_platform_error(r, 422)
        # a valid tree of another city: this deployment's unit (339900) is not in it
        other = (
            'units:\n  - {code: "110100", name: 北河市, level: city}\n'
            'departments:\n  - {code: "110100-xf", unit: "110100", name: 北河市信访局,'
            " kind: petition_office, competences: [general]}\n"
        )
        r = await client.put("/api/v1/admin/org-tree", content=other, headers=top)
        [problem] = assert_platform_error(r, 422)["problems"]
        assert "339900" in problem["message"] and problem["path"] == "units"
        too_big = default_tree_text() + "#" * MAX_TREE_BYTES
        assert_platform_error(
            await client.put("/api/v1/admin/org-tree", content=too_big, headers=top), 413
        )
        long_version = default_tree_text().replace("version: demo-2026.1", "version: " + "9" * 80)
        r = await client.put("/api/v1/admin/org-tree", content=long_version, headers=top)
        assert [p["path"] for p in assert_platform_error(r, 422)["problems"]] == ["version"]
        nul = default_tree_text().replace("version: demo-2026.1", 'version: "demo\\0"')
        r = await client.put("/api/v1/admin/org-tree", content=nul, headers=top)
        assert [p["path"] for p in assert_platform_error(r, 422)["problems"]] == ["version"]
        assert (await client.get("/api/v1/admin/org-tree")).json()["version"] == "demo-2026.1"


async def test_only_the_holding_bodys_handlers_or_leaders_object_in_its_name(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    cid, raw = received("清河县清河镇东岗村村民反映，邻村养猪场粪水直排河道，臭气熏天。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        c = await eventually(lambda: case(client, cid), timeout=30)
        assert c["holder_code"] == "339922-sthj"  # type: ignore[index]
        url = f"/api/v1/cases/{cid}/objection"
        on_behalf = {"department_code": "339922-sthj", "reason": "不归我们办"}
        for headers in (
            who(app, "qinghe.registrar", Role.REGISTRAR, "339922"),
            who(app, "qinghe.supervisor", Role.SUPERVISOR, "339922"),
            who(app, "qinghe.admin", Role.ADMIN, "339922"),
            who(app, "city.leader", Role.LEADER, "339900"),  # not the holding unit's leadership
        ):
            assert_platform_error(await client.post(url, json=on_behalf, headers=headers), 403)
        assert (await case(client, cid))["holder_code"] == "339922-sthj"  # type: ignore[index]

        handler = who(app, "qinghe.sthj", Role.HANDLER, "339922-sthj")
        r = await client.post(url, json={"reason": "养殖污染属农业农村部门监管"}, headers=handler)
        assert r.status_code == 200, r.text
        assert r.json()["from_unit_code"] == "339922-sthj" and r.json()["actor"].endswith(
            "（qinghe.sthj）"
        )
        assert (await case(client, cid))["holder_code"] == "339922-xfj"  # type: ignore[index]


async def test_reassignment_stays_in_the_callers_subtree_and_accusations_with_discipline(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    secret, raw = received(
        "举报清河县某局局长收受工程老板贿赂。", category="cadre_report", informant_sealed=True
    )
    plain, raw2 = received("清河县清河镇西岗村附近采石场粉尘污染严重，庄稼上落满灰。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=secret.encode())
        await produce(broker, "petition.received", raw2, key=plain.encode())
        s = await eventually(lambda: case(client, secret), timeout=30)
        await eventually(lambda: case(client, plain), timeout=30)
        assert s["holder_code"] == "339922-jw" and s["confidential"] is True  # type: ignore[index]
        county = who(app, "qinghe.supervisor", Role.SUPERVISOR, "339922")

        def move(case_id: str, to: str, headers: dict[str, str]) -> Any:
            return client.post(
                f"/api/v1/cases/{case_id}/reassign",
                json={"to_department_code": to, "reason": "改派测试"},
                headers=headers,
            )

        # another county's bodies, or the city's, are outside the county supervisor's subtree
        assert_platform_error(await move(secret, "339902-jw", county), 403)
        assert_platform_error(await move(plain, "339902-sthj", county), 403)
        assert_platform_error(await move(plain, "339900-sthj", county), 403)
        # a confidential accusation goes to a discipline body only
        body = assert_platform_error(await move(secret, "339922-zrzy", county), 422)
        assert "纪检监察" in body["message"]
        assert_platform_error(await move(plain, "339922-nope", county), 422)
        other_handler = who(app, "linjiang.jw", Role.HANDLER, "339902-jw")
        assert (
            await client.get(f"/api/v1/cases/{secret}", headers=other_handler)
        ).status_code == 404

        # inside the subtree it goes; the city supervisor may move it between its counties
        r = await move(plain, "339922-nyncj", county)
        assert r.status_code == 200, r.text
        city = who(app, "city.supervisor", Role.SUPERVISOR, "339900")
        r = await move(secret, "339902-jw", city)
        assert r.status_code == 200, r.text
        assert (
            await client.get(f"/api/v1/cases/{secret}", headers=other_handler)
        ).status_code == 200


async def test_odd_input_to_routings_endpoints_is_a_4xx_in_the_platform_body(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    cid, raw = received("清河县清河镇东岗村村民反映，邻村养猪场粪水直排河道，臭气熏天。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        await eventually(lambda: case(client, cid), timeout=30)
        for bad_id in ("x" * 5000, "9" * 40, "%E2%80%AE"):
            for path in ("", "/hops"):
                assert_platform_error(await client.get(f"/api/v1/cases/{bad_id}{path}"), 404)
            # a control character is refused by the platform before any lookup
            assert_platform_error(await client.get(f"/api/v1/cases/%00abc{path}"), 422)
        url = f"/api/v1/cases/{cid}/objection"
        for reason in ("不" * 500, "理由\u0000", "\u200b\u200b"):
            r = await client.post(url, json={"department_code": "339922-sthj", "reason": reason})
            assert 400 <= r.status_code < 500, r.text
        r = await client.post(
            f"/api/v1/cases/{cid}/reassign",
            json={"to_department_code": "339922-nyncj", "reason": "不" * 500},
        )
        assert 400 <= r.status_code < 500, r.text
        # (the body of FastAPI's own validation errors is the shared HTTP layer's)
        assert (await client.post(url, json={"reason": None})).status_code == 422
        for odd in (7, [], {}, "\u0000", 10**30):
            for field in ("department_code", "reason", "actor"):
                body = {"department_code": "339922-sthj", "reason": "不归我们办", field: odd}
                r = await client.post(url, json=body)
                assert r.status_code in (403, 404, 409, 422), (body, r.text)
            r = await client.post(url, content=json.dumps(odd))
            assert 400 <= r.status_code < 500, r.text
        r = await client.put(
            "/api/v1/admin/org-tree",
            content=b"\xff\xfe",
            headers={**YAML, **who(app, "city.admin", Role.ADMIN, "339900")},
        )
        assert_platform_error(r, 422)
        r = await client.get("/api/v1/admin/org-tree/audit?limit=99999999999999999999")
        assert 400 <= r.status_code < 500, r.text
        r = await client.get("/api/v1/admin/org-tree/audit?before=99999999999999999999")
        assert 400 <= r.status_code < 500, r.text
        # nothing of that changed the case
        c = await case(client, cid)
        assert c["holder_code"] == "339922-sthj" and len(c["hops"]) == 1  # type: ignore[index]


async def test_the_cli_refuses_a_tree_dropping_what_open_cases_need_and_audits_it(
    broker: str, databases: Databases, tmp_path: Path
) -> None:
    url = await databases.new("routing")
    app, _ = await routing(databases, broker, url)
    cid, raw = received("清河县柳塘乡柳树湾村的山林被人砍伐，林权证上写得清清楚楚是我家的。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        await eventually(lambda: case(client, cid), timeout=30)
    text = default_tree_text()
    start = text.index('  - code: "339922-lyj"')
    tree_file = tmp_path / "tree.yaml"
    tree_file.write_text(text[:start] + text[text.index("  - code:", start + 5) :], "utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "xinfang_routing", "load-org", str(tree_file), *args],
            env={**os.environ, "XF_ROUTING_DATABASE_URL": url},
            capture_output=True,
            text=True,
        )

    refused = await asyncio.to_thread(cli)
    assert refused.returncode == 2 and "339922-lyj" in refused.stderr, refused.stderr
    assert (await asyncio.to_thread(cli, "--force")).returncode == 2  # no reason
    forced = await asyncio.to_thread(cli, "--force", "--reason", "林业局并入自然资源局")
    assert forced.returncode == 0, forced.stderr
    app2, _ = await routing(databases, broker, url)
    async with running(app2) as client:
        top = who(app2, "city.admin", Role.ADMIN, "339900")
        entries = (await client.get("/api/v1/admin/org-tree/audit", headers=top)).json()["entries"]
        assert [e["outcome"] for e in entries] == ["loaded", "in_use"]
        assert entries[0]["actor"].startswith("命令行") and entries[0]["forced"] is True
        assert entries[0]["departments_removed"] == ["339922-lyj"]


async def test_concurrent_corrections_of_one_case_one_wins_the_others_are_told_409(
    broker: str, databases: Databases
) -> None:
    app, _ = await routing(databases, broker)
    cid, raw = received("清河县清河镇东岗村村民反映，邻村养猪场粪水直排河道，臭气熏天。")
    async with running(app) as client:
        await produce(broker, "petition.received", raw, key=cid.encode())
        await eventually(lambda: case(client, cid), timeout=30)
        targets = ["339922-nyncj", "339922-zrzy", "339922-gaj", "339922-rsj", "339922-jyj"]
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/api/v1/cases/{cid}/reassign",
                    json={"to_department_code": to, "reason": "改派测试"},
                )
                for to in targets
            )
        )
        statuses = sorted(r.status_code for r in answers)
        assert statuses[0] == 200 and set(statuses) <= {200, 409}, [r.text for r in answers]
        for r in answers:
            if r.status_code == 409:
                assert_platform_error(r, 409)
        hops = (await client.get(f"/api/v1/cases/{cid}/hops")).json()
        assert len(hops) == 1 + statuses.count(200)
        holder = (await case(client, cid))["holder_code"]  # type: ignore[index]
        assert holder == hops[-1]["to_unit_code"]
