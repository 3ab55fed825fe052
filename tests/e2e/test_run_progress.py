"""``make run LEVELS=3`` tells a person what it is doing while it starts (in Chinese, with the
seconds elapsed), and starts every level's services together rather than one level after
another."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from deploy.run import THREE_LEVELS, WITH_WORKBENCH, Reporter, start_levels
from tests.conftest import free_port

pytestmark = pytest.mark.e2e


def test_reporter_prints_each_step_with_the_seconds_since_the_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = Reporter(started=time.monotonic() - 12.34)
    report("【江临市】intake 已就绪")
    assert re.fullmatch(r"\[ 12\.\d 秒\] 【江临市】intake 已就绪\n", capsys.readouterr().out)


async def test_three_levels_report_each_level_and_service_as_it_starts_and_is_ready(
    tmp_path: Path,
) -> None:
    specs = tuple(replace(s, ports={n: free_port() for n in s.ports}) for s in THREE_LEVELS)
    said: list[str] = []
    levels = await asyncio.to_thread(
        start_levels,
        tmp_path / "var",
        specs=specs,
        broker_port=free_port(),
        partitions=1,
        progress=said.append,
    )
    levels.stop()

    assert said[0].startswith("启动消息代理") and said[1] == "消息代理已就绪"
    labels = [f"【{s.label}】" for s in specs]
    started = [i for i, line in enumerate(said) if "启动服务" in line]
    ready = [i for i, line in enumerate(said) if "已就绪  http" in line]
    assert [said[i][: len(labels[0])] for i in started] == labels
    # the five services and the workbench of each level
    assert len(ready) == len(WITH_WORKBENCH) * len(specs)
    # every level's services were started before any was waited for: all start together
    assert max(started) < min(ready)
    for spec, label in zip(specs, labels, strict=True):
        for name in WITH_WORKBENCH:
            line = f"{label}{name} 已就绪  http://127.0.0.1:{spec.ports[name]}"
            assert line in said, (line, said)
        assert f"{label}全部服务已就绪" in said
