"""The services share one layout (issue #15): a package per domain with its schemas, service
and views; ``main.bootstrap()`` returns one typed object; views reach it through an
``Annotated`` dependency, never by a string-keyed ``app.state`` lookup; no module grows past
about 600 lines. (Supervision follows when it is rewritten.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from xinfang_shared.runtime import ServiceRuntime

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("intake", "routing", "supervision", "notify", "reports", "workbench")
# the workbench keeps no data: no database, no runtime (it calls the others' APIs)
DATA_SERVICES = SERVICES[:5]
MAX_LINES = 600


def modules(*services: str) -> list[Path]:
    found = [p for s in services for p in (ROOT / "services" / s / "src").rglob("*.py")]
    return found


def test_no_module_grows_past_600_lines() -> None:
    paths = [*modules(*SERVICES), *(ROOT / "shared" / "src").rglob("*.py")]
    long = {
        str(p.relative_to(ROOT)): n
        for p in paths
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_only_the_dependencies_read_the_app_state() -> None:
    """``request.app.state`` is read in one place per service (deps.py) and by the shared
    runtime's own dependency; views and services take ``…Dep`` parameters."""
    readers = sorted(
        str(p.relative_to(ROOT))
        for p in [*modules(*SERVICES), *(ROOT / "shared" / "src").rglob("*.py")]
        if "request.app.state" in p.read_text(encoding="utf-8")
    )
    assert readers == [
        "services/intake/src/xinfang_intake/deps.py",
        "services/notify/src/xinfang_notify/deps.py",
        "services/reports/src/xinfang_reports/deps.py",
        "services/routing/src/xinfang_routing/deps.py",
        "services/supervision/src/xinfang_supervision/deps.py",
        "services/workbench/src/xinfang_workbench/deps.py",
        "shared/src/xinfang_shared/runtime.py",
    ]


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_domain_packages(service: str) -> None:
    src = ROOT / "services" / service / "src" / f"xinfang_{service}"
    packages = [p for p in src.iterdir() if (p / "__init__.py").exists() and p.name != "migrations"]
    assert packages, f"{service} has no domain package"
    for package in packages:
        names = {p.name for p in package.glob("*.py")}
        assert names & {"service.py", "views.py"}, (package, names)


@pytest.mark.parametrize("service", DATA_SERVICES)
def test_bootstrap_returns_one_typed_object(service: str, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / f'{service}.db'}"
    if service == "intake":
        from xinfang_intake.config import IntakeSettings
        from xinfang_intake.deps import Intake
        from xinfang_intake.main import bootstrap as intake_bootstrap

        built: object = intake_bootstrap(IntakeSettings(database_url=url))
        kind: type = Intake
    elif service == "routing":
        from xinfang_routing.config import RoutingSettings
        from xinfang_routing.deps import Routing
        from xinfang_routing.main import bootstrap as routing_bootstrap

        built, kind = routing_bootstrap(RoutingSettings(database_url=url)), Routing
    elif service == "supervision":
        from xinfang_supervision.config import SupervisionSettings
        from xinfang_supervision.deps import Supervision
        from xinfang_supervision.main import bootstrap as supervision_bootstrap

        built = supervision_bootstrap(SupervisionSettings(database_url=url))
        kind = Supervision
    elif service == "reports":
        from xinfang_reports.config import ReportsSettings
        from xinfang_reports.deps import Reports
        from xinfang_reports.main import bootstrap as reports_bootstrap

        built, kind = reports_bootstrap(ReportsSettings(database_url=url)), Reports
    else:
        from xinfang_notify.config import NotifySettings
        from xinfang_notify.deps import Notify
        from xinfang_notify.main import bootstrap as notify_bootstrap

        built, kind = notify_bootstrap(NotifySettings(database_url=url)), Notify
    assert isinstance(built, kind) and dataclasses.is_dataclass(built)
    assert isinstance(built.runtime, ServiceRuntime)  # type: ignore[attr-defined]


def test_the_workbench_bootstrap_returns_one_typed_object() -> None:
    from xinfang_workbench.config import WorkbenchSettings
    from xinfang_workbench.deps import Workbench
    from xinfang_workbench.main import bootstrap

    built = bootstrap(WorkbenchSettings())
    assert isinstance(built, Workbench) and dataclasses.is_dataclass(built)
    assert set(built.api.clients) == {"intake", "routing", "supervision", "notify", "reports"}
