from __future__ import annotations

from xinfang_shared.serve import serve

from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app


def main() -> None:
    settings = RoutingSettings()
    serve(
        create_app(settings),
        service="routing",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
