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
    "case_number_blocks": ("office_code", "year", "next_value"),
    "idempotency_keys": ("key", "request_hash", "case_id", "response", "created_at"),
    "informant_reveals": (
        "id",
        "case_id",
        "case_number",
        "office_code",
        "at",
        "username",
        "actor",
        "role",
        "org_code",
        "reason",
        "outcome",
    ),
    "login_throttle": (
        "kind",
        "subject",
        "username",
        "attempts",
        "delay_s",
        "next_at",
        "last_at",
        "version",
    ),
    "outbox": ("id", "event_id", "topic", "key", "value", "created_at", "published_at", "attempts"),
    "petition_history": ("id", "case_id", "at", "status", "note", "detail"),
    "petitioners": (
        "id",
        "case_id",
        "position",
        "name",
        "id_number",
        "id_hash",
        "phone",
        "email",
        "address",
    ),
    "petitions": (
        "case_id",
        "case_number",
        "query_code",
        "channel",
        "anonymous",
        "persons",
        "receiving_office_code",
        "matter_location_code",
        "matter_address",
        "category",
        "title",
        "content",
        "collective",
        "received_at",
        "registered_at",
        "status",
        "status_at",
        "handling_unit_name",
        "deadlines",
        "next_step",
    ),
    "processed_events": ("event_id", "event_type", "processed_at"),
    "sealed_informants": ("case_id", "identity", "sealed_at"),
    "token_revocations": ("username", "revoked_at", "reason"),
    "users": (
        "id",
        "username",
        "display_name",
        "password_hash",
        "role",
        "org_code",
        "active",
        "created_at",
    ),
}


def upgrade() -> None:
    op.create_table(
        "case_number_blocks",
        sa.Column("office_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("next_value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office_code", "year"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=97), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delay_s", sa.Float(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject"),
    )
    op.create_index("ix_login_throttle_last_at", "login_throttle", ["last_at"], unique=False)
    op.create_index("ix_login_throttle_username", "login_throttle", ["username"], unique=False)

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
        "petitions",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("query_code", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("receiving_office_code", sa.String(length=12), nullable=False),
        sa.Column("matter_location_code", sa.String(length=12), nullable=True),
        sa.Column("matter_address", sa.String(length=300), nullable=True),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("collective", sa.Boolean(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling_unit_name", sa.String(length=100), nullable=True),
        sa.Column("deadlines", sa.JSON(), nullable=True),
        sa.Column("next_step", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("case_number"),
        sa.UniqueConstraint("query_code"),
    )
    op.create_index(
        "ix_petitions_receiving_office_code", "petitions", ["receiving_office_code"], unique=False
    )

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "token_revocations",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=50), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_index("ix_users_org_code", "users", ["org_code"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
        ),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        "ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False
    )

    op.create_table(
        "informant_reveals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("office_code", sa.String(length=12), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_informant_reveals_case_id", "informant_reveals", ["case_id"], unique=False)
    op.create_index(
        "ix_informant_reveals_office_code", "informant_reveals", ["office_code"], unique=False
    )

    op.create_table(
        "petition_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_petition_history_case_id", "petition_history", ["case_id"], unique=False)

    op.create_table(
        "petitioners",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("id_hash", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_petitioners_case_id", "petitioners", ["case_id"], unique=False)
    op.create_index("ix_petitioners_id_hash", "petitioners", ["id_hash"], unique=False)

    op.create_table(
        "sealed_informants",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("identity", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["petitions.case_id"],
        ),
        sa.PrimaryKeyConstraint("case_id"),
    )


def downgrade() -> None:
    op.drop_table("sealed_informants")
    op.drop_table("petitioners")
    op.drop_table("petition_history")
    op.drop_table("informant_reveals")
    op.drop_table("idempotency_keys")
    op.drop_table("users")
    op.drop_table("token_revocations")
    op.drop_table("processed_events")
    op.drop_table("petitions")
    op.drop_table("outbox")
    op.drop_table("login_throttle")
    op.drop_table("case_number_blocks")
