"""release 14 schema: the tables as metadata.create_all made them before the migrations
(tests/data/schema_release_14/ holds that DDL; a database created by it is stamped here).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# the tables this revision creates and their columns: a database without alembic_version that
# has them all, each with at least these columns, was made by create_all before the migrations
# and is stamped at this revision (xinfang_shared.migrate)
TABLES = {
    "org_tree_audit": (
        "id",
        "at",
        "actor",
        "actor_org",
        "outcome",
        "version",
        "version_id",
        "forced",
        "reason",
        "changes",
        "problems",
    ),
    "org_tree_versions": (
        "id",
        "version",
        "source",
        "units",
        "departments",
        "loaded_by",
        "loaded_at",
    ),
    "outbox": ("id", "event_id", "topic", "key", "value", "created_at", "published_at", "attempts"),
    "processed_events": ("event_id", "event_type", "processed_at"),
    "repeat_fingerprints": (
        "seq",
        "case_id",
        "root_case_id",
        "identity_keys",
        "signature",
        "terms",
        "topic",
        "category",
        "department",
        "received_at",
    ),
    "routing_cases": (
        "case_id",
        "case_number",
        "receiving_office_code",
        "received_at",
        "channel",
        "category",
        "category_source",
        "kind",
        "legal_channel",
        "confidential",
        "territory_code",
        "responsible_unit_code",
        "holder_code",
        "holder_since",
        "supervising_code",
        "skip_level",
        "status",
        "linked_to",
        "repeat_count",
        "decision",
    ),
    "routing_hops": (
        "case_id",
        "hop",
        "case_number",
        "action",
        "from_unit_code",
        "from_unit_name",
        "to_unit_code",
        "to_unit_name",
        "reason",
        "actor",
        "needs_manual_triage",
        "final",
        "transfer_due",
        "received_at",
        "routed_at",
    ),
    "token_revocations": ("username", "revoked_at", "reason"),
}


def upgrade() -> None:
    op.create_table(
        "org_tree_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("actor_org", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("version", sa.String(length=60), nullable=True),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=True),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "org_tree_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=60), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("departments", sa.Integer(), nullable=False),
        sa.Column("loaded_by", sa.String(length=60), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"], unique=False)

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "repeat_fingerprints",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("root_case_id", sa.String(length=36), nullable=False),
        sa.Column("identity_keys", sa.JSON(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("terms", sa.LargeBinary(), nullable=True),
        sa.Column("topic", sa.JSON(), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("department", sa.String(length=30), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("case_id"),
    )
    op.create_table(
        "routing_cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("receiving_office_code", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("category_source", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=True),
        sa.Column("legal_channel", sa.String(length=20), nullable=False),
        sa.Column("confidential", sa.Boolean(), nullable=False),
        sa.Column("territory_code", sa.String(length=20), nullable=True),
        sa.Column("responsible_unit_code", sa.String(length=20), nullable=True),
        sa.Column("holder_code", sa.String(length=30), nullable=True),
        sa.Column("holder_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("supervising_code", sa.String(length=30), nullable=True),
        sa.Column("skip_level", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("linked_to", sa.String(length=36), nullable=True),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index("ix_routing_cases_linked_to", "routing_cases", ["linked_to"], unique=False)

    op.create_table(
        "routing_hops",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("hop", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("from_unit_code", sa.String(length=20), nullable=False),
        sa.Column("from_unit_name", sa.String(length=100), nullable=False),
        sa.Column("to_unit_code", sa.String(length=20), nullable=False),
        sa.Column("to_unit_name", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("needs_manual_triage", sa.Boolean(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("transfer_due", sa.Date(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "hop"),
    )
    op.create_index("ix_routing_hops_to_unit_code", "routing_hops", ["to_unit_code"], unique=False)

    op.create_table(
        "token_revocations",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("token_revocations")
    op.drop_table("routing_hops")
    op.drop_table("routing_cases")
    op.drop_table("repeat_fingerprints")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("org_tree_versions")
    op.drop_table("org_tree_audit")
