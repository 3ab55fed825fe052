"""A healthy system logs no errors: the five real services (as ``make run`` starts them) take the
demo petitions from registration to supervision and shut down, and not one ERROR line is logged
(an operator reading the logs must be able to trust that an error is an error). faust's data
directories stay out of the working tree."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.run import DEMO_FILE, ROOT, SERVICES, load_demo
from tests.conftest import Databases, eventually
from tests.e2e.stacks import DEMO_USERS_ENV, auth_headers, launched

pytestmark = pytest.mark.e2e


def error_lines(log_dir: Path) -> list[str]:
    """Every log line at level error or above, of every service, and every warning of faust's
    table recovery (a changelog record it cannot place)."""
    bad = []
    for name in SERVICES:
        for line in (log_dir / f"{name}.log").read_text(encoding="utf-8").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                doc = {"level": "unparsed"}  # not one of our JSON lines: a library's own print
            if doc.get("level") in ("error", "critical", "unparsed") or (
                doc.get("logger") == "faust.tables.recovery" and doc.get("level") == "warning"
            ):
                bad.append(f"{name}: {line[:500]}")
    return bad


async def test_a_healthy_run_logs_no_errors_and_leaves_no_faust_data_in_the_tree(
    tmp_path: Path, databases: Databases
) -> None:
    suffix = f"-healthy-{uuid.uuid4().hex[:6]}"
    expected = len(json.loads(DEMO_FILE.read_text(encoding="utf-8")))
    env = {
        **DEMO_USERS_ENV,
        "XF_KAFKA_GROUP_SUFFIX": suffix,
        # faust's stalled-stream check (every 7 s) after 5 s instead of 5 min: a partition it
        # wrongly takes for a stalled stream is reported within the test
        "STREAM_PROCESSING_TIMEOUT": "5",
    }
    async with launched(tmp_path, databases, env) as s:
        created = await asyncio.to_thread(load_demo, s)
        ids = {c["case_id"] for c in created}
        async with httpx.AsyncClient(timeout=10, headers=auth_headers()) as client:

            async def supervised() -> list[Any] | None:
                r = await client.get(s.url("supervision") + "/api/v1/cases")
                cases = [c for c in r.json() if c["case_id"] in ids] if r.is_success else []
                return cases if len(cases) == expected else None

            await eventually(supervised, timeout=60, what="every demo case under supervision")
        await asyncio.sleep(10)  # consumer groups settled, sweeps and faust's checks ran
    assert error_lines(tmp_path / "var" / "log") == []
    assert sorted(p.name for p in ROOT.glob(f"*{suffix}-data")) == []
