"""Each service is its own installable package with an entry point and a container file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"intake": 8001, "routing": 8002, "supervision": 8003, "notify": 8004}


@pytest.mark.parametrize("service", sorted(PORTS))
def test_service_package_entry_point_and_dockerfile_agree(service: str) -> None:
    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())["project"]
    script = f"xinfang-{service}"
    assert project["scripts"][script] == f"xinfang_{service}.__main__:main"
    assert "xinfang-shared" in project["dependencies"]
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert re.search(rf'^CMD \["{script}"\]$', dockerfile, re.M)
    assert re.search(rf"^EXPOSE {PORTS[service]}$", dockerfile, re.M)
    assert f"--package xinfang-{service}" in dockerfile


@pytest.mark.parametrize("service", sorted(PORTS))
def test_default_port(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.delenv(f"XF_{service.upper()}_PORT", raising=False)
    config = importlib.import_module(f"xinfang_{service}.config")
    settings_cls = next(
        v for k, v in vars(config).items() if k.endswith("Settings") and k != "CommonSettings"
    )
    assert settings_cls().port == PORTS[service]


def test_lock_file_is_committed_with_the_workspace() -> None:
    lock = (ROOT / "uv.lock").read_text()
    for member in ["xinfang-shared", *(f"xinfang-{s}" for s in PORTS)]:
        assert f'name = "{member}"' in lock
