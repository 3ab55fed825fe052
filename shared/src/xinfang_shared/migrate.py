"""Each service's database schema comes from its Alembic migrations, shipped in the service
package (``xinfang_<service>/migrations/``: ``env.py`` and ``versions/``) and run at start-up.

:func:`upgrade_to_head` brings a database to the newest revision:

- an empty database is upgraded from the base (the first revision creates every table);
- a database created by ``metadata.create_all`` before the migrations existed has the tables
  but no ``alembic_version``: once every table of the first revision is found there, it is
  stamped at that revision and upgraded from it (a database with only some of them is refused,
  nothing changed: it is not a schema any release left);
- replicas starting together take turns: on PostgreSQL the migration runs in one transaction
  holding an advisory lock derived from the service's name, on SQLite in one ``BEGIN
  IMMEDIATE`` transaction (the database's write lock); the later one finds the schema at head.

Everything runs programmatically (no ``alembic.ini``). The command line, for operators and for
writing a new revision::

    python -m xinfang_shared.migrate <service> upgrade|current|check|heads [--url URL]
    python -m xinfang_shared.migrate <service> revision -m "what changes"

``--url`` defaults to the service's ``XF_<SERVICE>_DATABASE_URL`` (or its default SQLite file);
``revision`` autogenerates against a scratch SQLite database at head unless ``--url`` is given.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import logging
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, event, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator

from xinfang_shared import db
from xinfang_shared.auth.revocation import revocations_table
from xinfang_shared.settings import default_sqlite_url

log = logging.getLogger(__name__)

# Bounds the wait for another replica's migration (the lock) and each migration statement.
MIGRATION_TIMEOUT_S = 600.0


class SchemaError(RuntimeError):
    """The database holds a schema the migrations cannot take over; nothing was changed."""


@dataclass(frozen=True)
class Upgraded:
    service: str
    before: str | None  # the revision found (None: none recorded)
    after: str | None  # the revision now recorded: head (None: there is no revision yet)
    adopted: bool  # tables from before the migrations were found and stamped


def target_metadata(metadata: MetaData) -> MetaData:
    """A service's tables as its runtime uses them: its models' metadata plus the token
    revocations table that :class:`~xinfang_shared.runtime.ServiceRuntime` adds to every
    service (idempotent)."""
    revocations_table(metadata)
    return metadata


def migrations_dir(service: str) -> Path:
    """``xinfang_<service>/migrations`` in the installed service package."""
    spec = importlib.util.find_spec(f"xinfang_{service}")
    if spec is None or not spec.submodule_search_locations:
        raise SchemaError(f"no package xinfang_{service} / 没有服务包 xinfang_{service}")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations"


def config(service: str, connection: Connection | None = None) -> Config:
    """The Alembic configuration of a service; ``connection`` is the one env.py migrates."""
    cfg = Config(stdout=sys.stdout)  # the current one (alembic binds its default at import)
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")  # a module name mypy accepts
    cfg.attributes["connection"] = connection
    return cfg


def lock_key(service: str) -> int:
    """The PostgreSQL advisory lock key of a service's migration (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"xinfang-migrate:{service}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


# --- env.py ----------------------------------------------------------------------------------


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migrations spell out the database type of a decorated one (``AwareDateTime`` is
    ``DateTime(timezone=True)``): a revision must not change when application code does."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl_instance!r}"
    return False


def context_options(connection: Connection, metadata: MetaData) -> dict[str, Any]:
    """What ``context.configure`` gets in every service's env.py (and the schema check)."""
    return {
        "connection": connection,
        "target_metadata": target_metadata(metadata),
        "render_as_batch": connection.dialect.name == "sqlite",  # ALTER by copy on SQLite
        "compare_type": True,
        "compare_server_default": True,
        "render_item": _render_item,
    }


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``: migrate the connection handed over
    in the configuration (by :func:`upgrade_to_head` or the command line), inside the caller's
    transaction."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SchemaError(
            "run migrations with python -m xinfang_shared.migrate / 请用 xinfang_shared.migrate 执行迁移"
        )
    context.configure(**context_options(connection, metadata))
    with context.begin_transaction():
        context.run_migrations()


# --- upgrading -------------------------------------------------------------------------------


def _baseline(script: ScriptDirectory) -> tuple[str, frozenset[str]] | None:
    """The first revision and the tables it creates (its module's ``TABLES``)."""
    base = script.get_base()
    if base is None:
        return None  # no revision yet (writing the first one)
    found = script.get_revision(base)
    assert found is not None
    return found.revision, frozenset(found.module.TABLES)


def _upgrade(connection: Connection, service: str) -> Upgraded:
    cfg = config(service, connection)
    before = MigrationContext.configure(connection).get_current_revision()
    adopted = False
    baseline = _baseline(ScriptDirectory.from_config(cfg))
    if before is None and baseline is not None:
        revision, tables = baseline
        present = tables & set(inspect(connection).get_table_names())
        if present:
            if missing := sorted(tables - present):
                raise SchemaError(
                    f"{service}: the database has some of the service's tables but not "
                    f"{', '.join(missing)}: not a schema any release created; nothing changed / "
                    f"数据库缺少部分数据表（{', '.join(missing)}），未作任何修改"
                )
            command.stamp(cfg, revision)
            adopted = True
    command.upgrade(cfg, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    return Upgraded(service=service, before=before, after=after, adopted=adopted)


def _migration_engine(url: str, timeout_s: float) -> AsyncEngine:
    """One connection for the migration. SQLite: the transaction is ``BEGIN IMMEDIATE`` (the
    write lock, taken before anything is read) with foreign keys off while tables are rebuilt
    (batch mode), checked before commit."""
    engine = db.create_engine(url, timeout_s=timeout_s, pool_size=1)
    if db.is_sqlite(engine):

        @event.listens_for(engine.sync_engine, "connect")
        def _own_transactions(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # the driver begins nothing on its own
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=OFF")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


async def upgrade_to_head(
    url: str, *, service: str, timeout_s: float = MIGRATION_TIMEOUT_S
) -> Upgraded:
    """Bring the service's database at ``url`` to the newest revision (see the module's
    docstring), all or nothing, one replica at a time. ``url`` names a file or a server:
    the migration has a connection of its own."""
    engine = _migration_engine(url, timeout_s)
    try:
        async with engine.connect() as conn, conn.begin():
            if not db.is_sqlite(engine):
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(service)}
                )
            result = await conn.run_sync(_upgrade, service)
            if db.is_sqlite(engine):
                broken = (await conn.execute(text("PRAGMA foreign_key_check"))).all()
                if broken:
                    raise SchemaError(
                        f"{service}: foreign keys broken by a migration: {broken[:5]}"
                    )
    finally:
        await engine.dispose()
    if result.before != result.after:
        log.info(
            "%s: database schema %s -> %s%s",
            service,
            result.before or "empty",
            result.after,
            " (tables from before the migrations adopted)" if result.adopted else "",
        )
    return result


def schema_diff(connection: Connection, metadata: MetaData) -> list[Any]:
    """What autogenerate would put in a new revision: the differences between the database
    and the service's models (empty when every model change has its revision)."""
    ctx = MigrationContext.configure(connection, opts=context_options(connection, metadata))
    return list(compare_metadata(ctx, target_metadata(metadata)))


# --- command line ----------------------------------------------------------------------------


def _url(service: str, given: str | None) -> str:
    return (
        given or os.environ.get(f"XF_{service.upper()}_DATABASE_URL") or default_sqlite_url(service)
    )


async def _with_connection(url: str, service: str, fn: Any) -> Any:
    """Run ``fn(cfg)`` with the service's configuration bound to a connection to ``url``."""
    engine = db.create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: fn(config(service, c)))
    finally:
        await engine.dispose()


async def _revision(service: str, url: str | None, message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url = url or f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}"
        await upgrade_to_head(url, service=service)
        script = ScriptDirectory.from_config(config(service))
        number = len(list(script.walk_revisions())) + 1
        await _with_connection(
            url,
            service,
            lambda cfg: command.revision(
                cfg, message=message, autogenerate=True, rev_id=f"{number:04d}"
            ),
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xinfang_shared.migrate")
    parser.add_argument("service", choices=["intake", "routing", "supervision", "notify"])
    parser.add_argument("action", choices=["upgrade", "current", "check", "heads", "revision"])
    parser.add_argument("--url", help="the database (default: XF_<SERVICE>_DATABASE_URL)")
    parser.add_argument("-m", "--message", help="revision: what it changes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.action == "upgrade":
        done = asyncio.run(upgrade_to_head(_url(args.service, args.url), service=args.service))
        print(json.dumps(asdict(done)))
    elif args.action == "current":
        asyncio.run(_with_connection(_url(args.service, args.url), args.service, command.current))
    elif args.action == "check":  # fails when the models changed without a revision
        asyncio.run(_with_connection(_url(args.service, args.url), args.service, command.check))
    elif args.action == "heads":
        command.heads(config(args.service))
    else:
        if not args.message:
            parser.error("revision needs -m MESSAGE")
        asyncio.run(_revision(args.service, args.url, args.message))
    return 0


if __name__ == "__main__":
    sys.exit(main())
