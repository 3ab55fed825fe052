"""``xinfang-routing`` serves the routing service; ``xinfang-routing load-org FILE`` validates an
org tree and stores it as the active version (the running service picks it up)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from pathlib import Path

from xinfang_shared.serve import serve

from xinfang_routing.config import RoutingSettings
from xinfang_routing.main import create_app


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in this environment
        return "unknown"


async def _load_org(text: str, *, force: bool, reason: str | None) -> dict[str, object]:
    """Load a tree as the API does (validated against the deployment, refused if it drops what
    open cases need unless forced), audited under the operating-system user who ran it."""
    from xinfang_shared import db, migrate, org
    from xinfang_shared.clock import SystemClock

    from xinfang_routing.orgtree import service

    settings = RoutingSettings()
    actor, actor_org = f"命令行（{_os_user()}）"[:60], settings.deployment.scope
    now = SystemClock().now()
    await migrate.upgrade_to_head(settings.database_url, service="routing")
    engine = db.create_engine(settings.database_url)
    try:
        async with db.sessionmaker(engine)() as session:
            try:
                async with session.begin():
                    found = await service.active_org_tree(session=session)
                    tree, vid, change = await service.load_tree(
                        session=session,
                        text=text,
                        current=found[0] if found else None,
                        deployment=settings.deployment,
                        actor=actor,
                        force=force,
                        now=now,
                    )
                    await service.record(
                        session=session,
                        actor=actor,
                        actor_org=actor_org,
                        outcome="loaded",
                        now=now,
                        version=tree.version,
                        version_id=vid,
                        forced=force,
                        reason=reason,
                        change=change,
                    )
            except (org.OrgTreeError, service.TreeInUse) as exc:
                async with session.begin():
                    await service.record(
                        session=session,
                        actor=actor,
                        actor_org=actor_org,
                        outcome="invalid" if isinstance(exc, org.OrgTreeError) else "in_use",
                        now=now,
                        reason=reason,
                        change=getattr(exc, "change", None),
                        problems=[p.as_dict() for p in exc.details]
                        if isinstance(exc, org.OrgTreeError)
                        else exc.holding,
                    )
                raise
        return {
            "version": tree.version,
            "version_id": vid,
            "units": len(tree.units),
            "departments": len(tree.departments),
            **change.as_dict(),
        }
    finally:
        await engine.dispose()


def _refused(error: str, **extra: object) -> int:
    print(json.dumps({"error": error, **extra}, ensure_ascii=False), file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xinfang-routing")
    sub = parser.add_subparsers(dest="cmd")
    load = sub.add_parser(
        "load-org", help="validate and store an org tree YAML as the active version"
    )
    load.add_argument("file", type=Path)
    load.add_argument(
        "--force",
        action="store_true",
        help="load even if it drops units or departments that open cases need",
    )
    load.add_argument("--reason", help="why (required with --force)")
    args = parser.parse_args(argv)
    if args.cmd == "load-org":
        from xinfang_shared.org import OrgTreeError
        from xinfang_shared.text import text_problem

        from xinfang_routing.orgtree.service import TreeInUse

        reason = (args.reason or "").strip() or None
        if (args.force and not reason) or (reason and text_problem(reason)):
            return _refused("强制加载须说明理由（--reason，可见文字）/ --force needs a --reason")
        try:
            text = args.file.read_text(encoding="utf-8")
            loaded = asyncio.run(_load_org(text, force=args.force, reason=reason))
        except OrgTreeError as exc:
            return _refused(
                "组织机构树校验失败，未作任何修改 / invalid org tree", problems=exc.problems
            )
        except TreeInUse as exc:
            return _refused(
                "新的组织机构树删除了仍有在办案件的单位或部门，未作任何修改（--force --reason）"
                " / the tree drops units or departments that open cases need",
                holding=exc.holding,
            )
        except (OSError, UnicodeDecodeError) as exc:
            return _refused(f"无法读取文件 / cannot read the file: {exc}")
        print(json.dumps(loaded, ensure_ascii=False))
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
