from __future__ import annotations

from xinfang_shared.serve import serve

from xinfang_workbench.config import WorkbenchSettings
from xinfang_workbench.main import create_app


def main() -> None:
    settings = WorkbenchSettings()
    serve(
        create_app(settings),
        service="workbench",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
