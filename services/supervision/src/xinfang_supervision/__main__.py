from __future__ import annotations

from xinfang_shared.serve import serve

from xinfang_supervision.config import SupervisionSettings
from xinfang_supervision.main import create_app


def main() -> None:
    settings = SupervisionSettings()
    serve(
        create_app(settings),
        service="supervision",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
