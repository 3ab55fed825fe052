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
    "alerts": (
        "alert_id",
        "kind",
        "case_id",
        "case_number",
        "title",
        "summary",
        "origin_unit_code",
        "unit_code",
        "escalations",
        "unit_since",
        "reminders",
        "raised_at",
        "next_escalation_at",
        "acknowledged_at",
        "acknowledged_by",
        "ack_note",
    ),
    "case_contacts": (
        "case_id",
        "case_number",
        "name",
        "phone",
        "email",
        "query_code",
        "office_name",
    ),
    "deliveries": (
        "id",
        "delivery_id",
        "source_event_id",
        "case_id",
        "case_number",
        "channel",
        "address",
        "person_id",
        "recipient",
        "level",
        "subject",
        "body",
        "link",
        "secret",
        "template_id",
        "params",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "receipt",
        "created_at",
        "sent_at",
        "read_at",
        "alert_id",
    ),
    "notifications": (
        "seq",
        "notification_id",
        "source_event_id",
        "source_event_type",
        "case_id",
        "case_number",
        "channel",
        "recipient",
        "unit_code",
        "alert_id",
        "level",
        "title",
        "body",
        "link",
        "created_at",
    ),
    "outbox": ("id", "event_id", "topic", "key", "value", "created_at", "published_at", "attempts"),
    "processed_events": ("event_id", "event_type", "processed_at"),
    "token_revocations": ("username", "revoked_at", "reason"),
}


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("origin_unit_code", sa.String(length=30), nullable=False),
        sa.Column("unit_code", sa.String(length=30), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("unit_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=60), nullable=True),
        sa.Column("ack_note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index("ix_alerts_case_id", "alerts", ["case_id"], unique=False)
    op.create_index(
        "ix_alerts_due", "alerts", ["acknowledged_at", "next_escalation_at"], unique=False
    )

    op.create_table(
        "case_contacts",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("query_code", sa.String(length=20), nullable=True),
        sa.Column("office_name", sa.String(length=60), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("source_event_id", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("person_id", sa.String(length=60), nullable=True),
        sa.Column("recipient", sa.String(length=60), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("template_id", sa.String(length=60), nullable=True),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
        sa.UniqueConstraint("source_event_id", "channel", "address", name="uq_delivery_once"),
    )
    op.create_index("ix_deliveries_alert", "deliveries", ["alert_id", "created_at"], unique=False)
    op.create_index("ix_deliveries_case_id", "deliveries", ["case_id"], unique=False)
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"], unique=False)
    op.create_index("ix_deliveries_person_id", "deliveries", ["person_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.String(length=36), nullable=False),
        sa.Column("source_event_id", sa.String(length=64), nullable=False),
        sa.Column("source_event_type", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=60), nullable=False),
        sa.Column("unit_code", sa.String(length=30), nullable=True),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("notification_id"),
        sa.UniqueConstraint("source_event_id", "channel", "recipient", name="uq_notification_once"),
    )
    op.create_index("ix_notifications_case_id", "notifications", ["case_id"], unique=False)
    op.create_index("ix_notifications_recipient", "notifications", ["recipient"], unique=False)

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
        "token_revocations",
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    op.drop_table("token_revocations")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("notifications")
    op.drop_table("deliveries")
    op.drop_table("case_contacts")
    op.drop_table("alerts")
