"""Freeze the services' database schema as DDL, one file per service and dialect:

    uv run --frozen python -m tests.freeze_schema release_14

writes ``tests/data/schema_<release>/<service>.<dialect>.sql``: the statements a service's
``metadata.create_all`` ran at start-up in that release (tables in dependency order, each
followed by its indexes), the token revocations table the runtime adds included.
tests/integration/test_migrations.py builds a database exactly as that release left it from
these files, then upgrades it as a service does at start-up.

Run it once per release whose databases the migrations must take over, from the release's own
code (the models as they were): the frozen files are data and are never regenerated for a
release already out.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateIndex, CreateTable
from xinfang_shared.migrate import target_metadata

from tests.migration_helpers import SERVICE_METADATA

DATA = Path(__file__).resolve().parent / "data"
DIALECTS: dict[str, Dialect] = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}


def schema_dir(release: str) -> Path:
    return DATA / f"schema_{release}"


def ddl(metadata: MetaData, dialect: Dialect) -> list[str]:
    """The statements ``metadata.create_all`` runs on an empty database of ``dialect``."""
    statements = []
    for table in metadata.sorted_tables:
        statements.append(str(CreateTable(table).compile(dialect=dialect)).strip())
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            statements.append(str(CreateIndex(index).compile(dialect=dialect)).strip())
    return statements


def freeze(release: str) -> list[Path]:
    out = schema_dir(release)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service, metadata in SERVICE_METADATA.items():
        for name, dialect in DIALECTS.items():
            path = out / f"{service}.{name}.sql"
            header = f"-- {service}'s schema at {release} ({name}): python -m tests.freeze_schema\n"
            path.write_text(
                header + "".join(f"{s};\n\n" for s in ddl(target_metadata(metadata), dialect))
            )
            written.append(path)
    return written


def statements(release: str, service: str, dialect: str) -> list[str]:
    """The frozen statements of one service and dialect, to execute one by one."""
    text = (schema_dir(release) / f"{service}.{dialect}.sql").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return [s.strip() for s in body.split(";\n") if s.strip()]


if __name__ == "__main__":
    for p in freeze(sys.argv[1] if len(sys.argv) > 1 else "release_14"):
        print(p.relative_to(DATA.parent.parent))
