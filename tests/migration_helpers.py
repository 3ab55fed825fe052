"""Each service's metadata (its models), for the schema snapshots and the migration tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, MetaData, inspect
from xinfang_intake.petitions import models as intake_models
from xinfang_notify import models as notify_models
from xinfang_reports import models as reports_models
from xinfang_routing import models as routing_models
from xinfang_supervision import models as supervision_models

SERVICE_METADATA: dict[str, MetaData] = {
    "intake": intake_models.metadata,
    "routing": routing_models.metadata,
    "supervision": supervision_models.metadata,
    "notify": notify_models.metadata,
    "reports": reports_models.metadata,
}


def schema_signature(conn: Connection) -> dict[str, Any]:
    """The schema as the database reports it, per table: columns in order (type, nullability,
    default), primary key, foreign keys, unique constraints and indexes, names included (on
    PostgreSQL the server names the unnamed ones). ``alembic_version`` is left out."""
    insp = inspect(conn)
    tables: dict[str, Any] = {}
    for name in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        tables[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in insp.get_columns(name)
            ],
            "primary_key": insp.get_pk_constraint(name),
            "foreign_keys": sorted(
                (
                    str(f["name"]),
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    tuple(f["referred_columns"]),
                )
                for f in insp.get_foreign_keys(name)
            ),
            "unique": sorted(
                (str(u["name"]), tuple(u["column_names"]))
                for u in insp.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (str(i["name"]), tuple(map(str, i["column_names"])), bool(i["unique"]))
                for i in insp.get_indexes(name)
            ),
        }
    return tables
