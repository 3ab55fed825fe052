from __future__ import annotations

from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app
from xinfang_shared.serve import serve


def main() -> None:
    settings = NotifySettings()
    serve(create_app(settings), service="notify", host=settings.http_host, port=settings.port,
          log_level=settings.log_level)


if __name__ == "__main__":
    main()
