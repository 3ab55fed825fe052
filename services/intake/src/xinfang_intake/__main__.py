from __future__ import annotations

from xinfang_shared.serve import serve

from xinfang_intake.config import IntakeSettings
from xinfang_intake.main import create_app


def main() -> None:
    settings = IntakeSettings()
    serve(
        create_app(settings),
        service="intake",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
