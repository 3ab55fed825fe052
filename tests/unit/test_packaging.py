"""Each service is its own installable package with an entry point and a container file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PORTS = {
    "intake": 8001,
    "routing": 8002,
    "supervision": 8003,
    "notify": 8004,
    "reports": 8005,
    "workbench": 8000,
}
# the services with a database of their own (and so migrations); the workbench has none
WITH_DATABASE = ("intake", "routing", "supervision", "notify", "reports")


def test_every_service_directory_is_listed() -> None:
    """A new services/<name>/ gets its port here, and so the checks below."""
    assert sorted(p.name for p in (ROOT / "services").iterdir() if p.is_dir()) == sorted(PORTS)
    assert set(WITH_DATABASE) < set(PORTS)


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


@pytest.mark.parametrize("service", sorted(WITH_DATABASE))
def test_migrations_ship_in_the_service_package_with_one_head(service: str) -> None:
    """The wheel holds everything under its package folder: the Alembic environment must be
    there (env.py, the template a new revision is written from, versions/), and the revisions
    must form one line (two heads: two revisions written apart, to be merged)."""
    from alembic.script import ScriptDirectory
    from xinfang_shared import migrate

    project = tomllib.loads((ROOT / "services" / service / "pyproject.toml").read_text())
    package = (
        ROOT
        / "services"
        / service
        / project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"][0]
    )
    found = migrate.migrations_dir(service)
    assert found == package / "migrations"
    assert (found / "env.py").is_file() and (found / "script.py.mako").is_file()
    template = (
        ROOT / "services" / "intake" / "src" / "xinfang_intake" / "migrations" / "script.py.mako"
    )
    assert (found / "script.py.mako").read_text() == template.read_text()
    script = ScriptDirectory.from_config(migrate.config(service))
    assert len(script.get_heads()) == 1
    assert script.get_base() == "0001"


def test_a_database_is_adopted_only_with_every_table_and_column_of_the_baseline() -> None:
    from xinfang_shared.migrate import adoption_problems

    expected = {"cases": ("id", "status"), "history": ("id",)}
    assert (
        adoption_problems(expected, {"cases": {"id", "status", "extra"}, "history": {"id"}}) == []
    )
    assert adoption_problems(expected, {"cases": {"id"}, "history": {"id"}}) == [
        "cases.status（缺少列 / missing column）"
    ]
    assert adoption_problems(expected, {"cases": {"id", "status"}}) == [
        "history（缺少数据表 / missing table）"
    ]
