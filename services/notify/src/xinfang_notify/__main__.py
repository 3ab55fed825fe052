from __future__ import annotations

from xinfang_shared.serve import serve

from xinfang_notify.config import NotifySettings
from xinfang_notify.main import create_app


def main() -> None:
    settings = NotifySettings()
    app = create_app(settings)

    def close_streams() -> None:
        notify = getattr(app.state, "notify", None)  # None: the app never started
        if notify is not None:
            notify.hub.close_all()

    serve(
        app,
        service="notify",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
        on_exit=close_streams,
    )


if __name__ == "__main__":
    main()
