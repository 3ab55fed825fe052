"""``xf-clock advance`` (``make clock-advance``) against a broker of its own and a real service
process: a person reads one Chinese line per service; ``--json`` prints the document scripts
read."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from deploy.run import start_stack
from tests.conftest import free_port


async def test_advance_prints_chinese_lines_and_json_only_on_request(tmp_path: Path) -> None:
    stack = await asyncio.to_thread(
        start_stack,
        tmp_path / "var",
        broker_port=free_port(),
        ports={"routing": free_port()},
        partitions=1,
        extra_env={"XF_CLOCK_MODE": "manual"},
    )
    try:
        healthz = stack.url("routing") + "/healthz"
        cmd = [sys.executable, "-m", "xinfang_shared.clock_cli", "advance"]

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*cmd, *args], env=stack.env, capture_output=True, text=True, timeout=60
            )

        out = await asyncio.to_thread(run, "1d", "--wait", healthz)
        assert out.returncode == 0, out.stdout + out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith("时钟已拨快 1 天：业务时间现为 "), lines
        assert "（北京时间）（比实际时间快 1 天）" in lines[0]
        assert lines[1].startswith("  ✓ routing") and "已确认，业务时间" in lines[1], lines
        assert lines[-1] == "全部 1 个服务已确认。"
        assert "{" not in out.stdout

        out = await asyncio.to_thread(run, "2h", "--wait", healthz, "--json")
        assert out.returncode == 0, out.stdout + out.stderr
        doc = json.loads(out.stdout)
        assert doc["offset_seconds"] == 26 * 3600 and doc["lagging"] == []

        # a service that is not there: named, and the command fails
        gone = f"http://127.0.0.1:{free_port()}/healthz"
        out = await asyncio.to_thread(run, "1m", "--wait", gone, "--timeout", "1")
        assert out.returncode == 1
        assert "✗ 127.0.0.1:" in out.stdout and "1 秒内未确认新时间" in out.stdout
    finally:
        await asyncio.to_thread(stack.stop)
