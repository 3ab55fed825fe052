"""Each service's database comes from its migrations (xinfang_shared.migrate), on SQLite and,
with XF_TEST_DATABASE=postgresql, PostgreSQL:

- a database the previous release made with ``metadata.create_all`` (its DDL frozen in
  tests/data/schema_release_14/) is taken over at start-up: rows kept, stamped, at head, and
  the same schema as a database migrated from empty;
- replicas upgrading the same database at once take turns: the schema is created once;
- after the upgrade the models and the database agree: a model changed without a revision
  fails here.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from xinfang_shared import db, migrate
from xinfang_shared.timeutil import local_date

from tests.conftest import DB_KIND, Databases
from tests.freeze_schema import schema_dir, statements
from tests.migration_helpers import SERVICE_METADATA, schema_signature

SERVICES = sorted(SERVICE_METADATA)
DIALECT = "postgresql" if DB_KIND == "postgresql" else "sqlite"
RELEASE = "release_14"
# the services that release had (reports came later: its databases start from its migrations)
RELEASED = [s for s in SERVICES if (schema_dir(RELEASE) / f"{s}.{DIALECT}.sql").exists()]
AT = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


def head(service: str) -> str:
    found = ScriptDirectory.from_config(migrate.config(service)).get_current_head()
    assert found is not None
    return found


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[AsyncConnection]:
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            yield conn
    finally:
        await engine.dispose()


async def run(url: str, fn: Any) -> Any:
    async with connect(url) as conn:
        return await conn.run_sync(fn)


async def release_14_database(url: str, service: str) -> None:
    """What the previous release's start-up left: its create_all, nothing else."""
    async with connect(url) as conn:
        for statement in statements(RELEASE, service, DIALECT):
            await conn.execute(sa.text(statement))


def value(column: sa.Column[Any], i: int) -> Any:
    """A value of the column's type for row ``i``; a column of the same name gets the same
    value in every table, so foreign keys (``case_id``) find their row."""
    t = column.type
    if isinstance(t, sa.Boolean):
        return i % 2 == 0
    if isinstance(t, sa.Integer):
        return i
    if isinstance(t, sa.Float):
        return i + 0.25
    if isinstance(t, sa.DateTime):
        return AT + timedelta(hours=i)
    if isinstance(t, sa.Date):
        return date(2026, 11, 24) + timedelta(days=i)
    if isinstance(t, sa.JSON):
        return {"第": i, "list": [1, "二"]}
    if isinstance(t, sa.LargeBinary):
        return bytes([i, 0, 255])
    if isinstance(t, sa.String) and t.length:  # VARCHAR(n)
        return f"{i}{column.name}"[: t.length]
    return f"信访事项内容 {column.name} {i}"  # TEXT


Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def write_rows(conn: sa.Connection) -> Rows:
    """Two rows in every table, written through the schema the database has (reflected), and
    every row read back ordered by primary key, with the columns it has."""
    meta = sa.MetaData()
    meta.reflect(conn)
    for table in meta.sorted_tables:
        rows = [{c.name: value(c, i) for c in table.columns} for i in (1, 2)]
        conn.execute(table.insert(), rows)
    return read_rows(conn, {name: [c.name for c in t.columns] for name, t in meta.tables.items()})


def read_rows(conn: sa.Connection, columns: dict[str, list[str]]) -> Rows:
    """The rows of the tables named, ordered by primary key, in the columns named (a later
    revision may have added columns)."""
    meta = sa.MetaData()
    meta.reflect(conn, only=list(columns))
    return {
        name: (
            names,
            [
                tuple(r)
                for r in conn.execute(
                    sa.select(*(meta.tables[name].c[n] for n in names)).order_by(
                        *meta.tables[name].primary_key.columns
                    )
                )
            ],
        )
        for name, names in sorted(columns.items())
    }


def version(conn: sa.Connection) -> list[str]:
    return [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


def test_every_service_of_the_previous_release_is_taken_over() -> None:
    assert RELEASED == ["intake", "notify", "routing", "supervision"]


@pytest.mark.parametrize("service", RELEASED)
async def test_previous_release_database_keeps_its_rows_and_reaches_head(
    service: str, databases: Databases
) -> None:
    url = await databases.new(service)
    await release_14_database(url, service)
    before = await run(url, write_rows)
    assert all(len(rows) == 2 for _, rows in before.values()) and len(before) >= 7

    done = await migrate.upgrade_to_head(url, service=service)  # what start-up runs

    assert done == migrate.Upgraded(service=service, before=None, after=head(service), adopted=True)
    columns = {name: names for name, (names, _) in before.items()}
    assert await run(url, lambda c: read_rows(c, columns)) == before
    assert await run(url, version) == [head(service)]
    again = await migrate.upgrade_to_head(url, service=service)  # the next start: nothing to do
    assert (again.before, again.after, again.adopted) == (head(service), head(service), False)


@pytest.mark.parametrize("service", RELEASED)
async def test_taken_over_database_has_the_schema_of_a_fresh_one(
    service: str, databases: Databases
) -> None:
    """Names included (PostgreSQL names unnamed constraints after their table and columns): a
    later revision that drops or alters a constraint finds it under the same name in both."""
    old, fresh = await databases.new(service), await databases.new(service)
    await release_14_database(old, service)
    await migrate.upgrade_to_head(old, service=service)
    done = await migrate.upgrade_to_head(fresh, service=service)
    assert (done.before, done.adopted) == (None, False)
    assert await run(old, schema_signature) == await run(fresh, schema_signature)


@pytest.mark.parametrize("service", SERVICES)
async def test_models_and_migrated_database_agree(service: str, databases: Databases) -> None:
    """Fails when a model changes without a revision (write one: python -m
    xinfang_shared.migrate <service> revision -m "...")."""
    url = await databases.new(service)
    await migrate.upgrade_to_head(url, service=service)
    metadata = SERVICE_METADATA[service]
    assert await run(url, lambda c: migrate.schema_diff(c, metadata)) == []

    changed = sa.MetaData()
    for table in migrate.target_metadata(metadata).tables.values():
        table.to_metadata(changed)
    next(iter(changed.tables.values())).append_column(sa.Column("added", sa.String(10)))
    diff = await run(url, lambda c: migrate.schema_diff(c, changed))
    assert [d[0] for d in diff] == ["add_column"]


async def _upgrade_process(url: str, service: str) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "xinfang_shared.migrate",
        service,
        "upgrade",
        "--url",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()[-2000:]
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("service", SERVICES)
async def test_replicas_starting_together_create_the_schema_once(
    service: str, databases: Databases
) -> None:
    url = await databases.new(service)
    first, second = await asyncio.gather(
        _upgrade_process(url, service), _upgrade_process(url, service)
    )
    assert sorted([first["before"], second["before"]], key=str) == [head(service), None]
    assert first["after"] == second["after"] == head(service)
    assert await run(url, version) == [head(service)]


async def _hold_migration_lock(engine: AsyncEngine, service: str) -> AsyncConnection:
    conn = await engine.connect()
    if db.is_sqlite(engine):
        await conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, as a migration takes it
    else:
        await conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": migrate.lock_key(service)})
    return conn


async def test_an_upgrade_waits_for_the_one_in_progress(databases: Databases) -> None:
    url = await databases.new("routing")
    engine = db.create_engine(url)
    if db.is_sqlite(engine):

        @sa.event.listens_for(engine.sync_engine, "connect")
        def _manual(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None

    holder = await _hold_migration_lock(engine, "routing")
    try:
        upgrade = asyncio.create_task(migrate.upgrade_to_head(url, service="routing"))
        await asyncio.sleep(1.0)
        assert not upgrade.done()
    finally:
        await holder.rollback()
        if not db.is_sqlite(engine):
            await holder.execute(
                sa.text("SELECT pg_advisory_unlock(:k)"), {"k": migrate.lock_key("routing")}
            )
        await holder.close()
        await engine.dispose()
    done = await asyncio.wait_for(upgrade, 30)
    assert done.after == head("routing")


async def test_database_with_only_some_of_the_tables_is_refused_unchanged(
    databases: Databases,
) -> None:
    url = await databases.new("intake")
    await release_14_database(url, "intake")
    async with connect(url) as conn:
        await conn.execute(sa.text("DROP TABLE login_throttle"))
    with pytest.raises(migrate.SchemaError, match="login_throttle"):
        await migrate.upgrade_to_head(url, service="intake")
    tables = await run(url, lambda c: set(sa.inspect(c).get_table_names()))
    assert "alembic_version" not in tables and "petitions" in tables


async def test_database_whose_table_lacks_a_column_is_refused_unchanged(
    databases: Databases,
) -> None:
    """A routing database made before release 14 added the matter profile (``topic``) to the
    repeat index, never altered by hand: stamping it would start a service that fails on its
    first repeat. It is refused, naming the column, and left as it was."""
    url = await databases.new("routing")
    await release_14_database(url, "routing")
    async with connect(url) as conn:
        await conn.execute(sa.text("ALTER TABLE repeat_fingerprints DROP COLUMN topic"))
    with pytest.raises(migrate.SchemaError, match=r"repeat_fingerprints\.topic"):
        await migrate.upgrade_to_head(url, service="routing")
    tables = await run(url, lambda c: set(sa.inspect(c).get_table_names()))
    assert "alembic_version" not in tables and "routing_cases" in tables


def test_command_line_reports_and_checks(
    databases: Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = asyncio.run(databases.new("notify"))
    assert migrate.main(["notify", "upgrade", "--url", url]) == 0
    assert json.loads(capsys.readouterr().out)["after"] == head("notify")
    assert migrate.main(["notify", "check", "--url", url]) == 0
    assert migrate.main(["notify", "current", "--url", url]) == 0
    assert head("notify") in capsys.readouterr().out


async def test_intake_started_on_a_previous_release_database_answers_for_its_petitions(
    databases: Databases,
) -> None:
    """The whole start-up path: intake, upgraded from release 14 at start, finds a petition
    registered before (written as that release wrote it) by its query code."""
    from xinfang_intake.config import IntakeSettings
    from xinfang_intake.main import create_app

    from tests.apps import running
    from tests.conftest import free_port

    url = await databases.new("intake")
    await release_14_database(url, "intake")
    year = local_date(datetime.now(UTC)).year
    number = f"339922-{year}-000001"
    registered = {"at": AT, "case_id": "5b0c5a52-3b8e-4f43-9a53-2d1f0c1e0a01", "number": number}
    async with connect(url) as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO petitions (case_id, case_number, query_code, channel, anonymous,"
                " persons, receiving_office_code, matter_location_code, category, content,"
                " collective, received_at, registered_at, status, status_at)"
                " VALUES (:case_id, :number, 'QC7K2M9P4X', 'visit', :no, 1,"
                " '339922', '339922101201', '土地征收补偿', '补偿款至今未发放', :no, :at, :at,"
                " 'registered', :at)"
            ),
            {**registered, "no": False},
        )
        await conn.execute(  # the block the number came from: the next one is 000002
            sa.text(
                "INSERT INTO case_number_blocks (office_code, year, next_value)"
                " VALUES ('339922', :year, 2)"
            ),
            {"year": year},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO petition_history (case_id, at, status, note)"
                " VALUES (:case_id, :at, 'registered', '清河县信访局登记')"
            ),
            registered,
        )
    settings = IntakeSettings(
        XF_INTAKE_DATABASE_URL=url, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}"
    )
    async with running(create_app(settings)) as client:
        status = (await client.get("/api/v1/petitions/QC7K2M9P4X")).json()
        created = await client.post(
            "/api/v1/petitions",
            json={
                "channel": "visit",
                "petitioners": [{"name": "王建国", "phone": "13905710001"}],
                "receiving_office_code": "339922",
                "content": "承包地被征收后补偿款至今未发放，请求督促落实。",
            },
        )
    assert status["case_number"] == number
    assert status["status_label"] == "已登记" and status["history"][0]["note"] == "清河县信访局登记"
    assert created.status_code == 201, created.text
    assert created.json()["case_number"] == f"339922-{year}-000002"
    assert await run(url, version) == [head("intake")]
