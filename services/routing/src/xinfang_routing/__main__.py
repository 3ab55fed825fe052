"""``xinfang-routing`` serves the routing service; ``xinfang-routing load-org FILE`` validates an
org tree and stores it as the active version (the running service picks it up)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from xinfang_shared.serve import serve

from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app


async def _load_org(text: str, actor: str) -> dict[str, object]:
    from xinfang_shared import db
    from xinfang_shared.clock import SystemClock

    from xinfang_routing import models, service

    settings = RoutingSettings()
    engine = db.create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(models.metadata.create_all)
        async with db.sessionmaker(engine)() as session, session.begin():
            tree, vid = await service.store_org_tree(
                session=session,
                text=text,
                actor=actor,
                now=SystemClock().now(),
            )
        return {
            "version": tree.version,
            "version_id": vid,
            "units": len(tree.units),
            "departments": len(tree.departments),
        }
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xinfang-routing")
    sub = parser.add_subparsers(dest="cmd")
    load = sub.add_parser(
        "load-org", help="validate and store an org tree YAML as the active version"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--actor", default="cli")
    args = parser.parse_args(argv)
    if args.cmd == "load-org":
        from xinfang_shared.org import OrgTreeError

        try:
            print(
                json.dumps(
                    asyncio.run(_load_org(args.file.read_text(encoding="utf-8"), args.actor)),
                    ensure_ascii=False,
                )
            )
        except OrgTreeError as exc:
            print(
                json.dumps(
                    {"error": "invalid org tree; nothing changed", "problems": exc.problems},
                    ensure_ascii=False,
                ),
                file=sys.stderr,
            )
            return 2
        return 0
    settings = RoutingSettings()
    serve(
        create_app(settings),
        service="routing",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
