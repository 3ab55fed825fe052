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
    "deadline_notices": ("id", "deadline_id", "stage", "kind", "event_id", "sent_at"),
    "deadlines": (
        "id",
        "case_id",
        "case_number",
        "kind",
        "label",
        "basis",
        "unit_code",
        "unit_name",
        "supervisor_code",
        "start_date",
        "due_date",
        "status",
        "met_at",
        "stage_done",
        "next_check",
        "created_at",
    ),
    "outbox": ("id", "event_id", "topic", "key", "value", "created_at", "published_at", "attempts"),
    "processed_events": ("event_id", "event_type", "processed_at"),
    "sup_case_history": (
        "id",
        "case_id",
        "at",
        "actor",
        "action",
        "from_state",
        "to_state",
        "note",
        "detail",
    ),
    "sup_cases": (
        "case_id",
        "case_number",
        "profile",
        "status",
        "unit_code",
        "unit_name",
        "supervising_code",
        "category",
        "received_at",
        "routed_at",
        "accepted_at",
        "replied_at",
        "reply_outcome",
        "review_answered_at",
        "extension_days",
        "leader",
        "repeat_count",
        "escalations",
        "backlog",
        "backlog_reasons",
        "updated_at",
    ),
    "sup_category_labels": ("code", "label"),
    "sup_emerging_alerts": (
        "alert_id",
        "place_code",
        "category",
        "window_start",
        "window_end",
        "petitioners",
        "members",
        "raised_at",
        "updated_at",
    ),
    "sup_extension_requests": (
        "id",
        "case_id",
        "days",
        "reason",
        "requested_by",
        "requested_at",
        "decision",
        "decided_by",
        "decided_at",
    ),
    "sup_holiday_notices": (
        "id",
        "year",
        "document",
        "holidays",
        "days_off",
        "workdays",
        "reason",
        "loaded_by",
        "loaded_at",
    ),
    "sup_repeat_arrivals": ("item_case_id", "case_id", "item_case_number", "arrived_at"),
    "sup_repeat_wave_alerts": ("id", "case_id", "arrivals", "raised_at"),
    "supervision_orders": (
        "id",
        "case_id",
        "deadline_id",
        "issued_by",
        "issued_to",
        "issued_at",
        "feedback_due",
        "feedback_at",
        "feedback",
    ),
    "token_revocations": ("username", "revoked_at", "reason"),
}


def upgrade() -> None:
    op.create_table(
        "deadline_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("deadline_id", sa.String(length=36), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deadline_id", "stage", name="uq_notice_deadline_stage"),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("basis", sa.String(length=100), nullable=False),
        sa.Column("unit_code", sa.String(length=30), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=False),
        sa.Column("supervisor_code", sa.String(length=30), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stage_done", sa.Integer(), nullable=False),
        sa.Column("next_check", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "kind", name="uq_deadline_case_kind"),
    )
    op.create_index("ix_deadlines_case_id", "deadlines", ["case_id"], unique=False)
    op.create_index("ix_deadlines_next_check", "deadlines", ["next_check"], unique=False)

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
        "sup_case_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=30), nullable=True),
        sa.Column("to_state", sa.String(length=30), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sup_case_history_case_id", "sup_case_history", ["case_id"], unique=False)

    op.create_table(
        "sup_cases",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("profile", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("unit_code", sa.String(length=30), nullable=False),
        sa.Column("unit_name", sa.String(length=100), nullable=False),
        sa.Column("supervising_code", sa.String(length=30), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reply_outcome", sa.String(length=20), nullable=True),
        sa.Column("review_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("extension_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("leader", sa.String(length=60), nullable=True),
        sa.Column("repeat_count", sa.Integer(), server_default="1", nullable=False),
        sa.Column("escalations", sa.Integer(), server_default="0", nullable=False),
        sa.Column("backlog", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("backlog_reasons", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_table(
        "sup_category_labels",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "sup_emerging_alerts",
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("place_code", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("petitioners", sa.Integer(), nullable=False),
        sa.Column("members", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    op.create_index(
        "ix_emerging_place",
        "sup_emerging_alerts",
        ["place_code", "category", "window_end"],
        unique=False,
    )

    op.create_table(
        "sup_extension_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=60), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by", sa.String(length=60), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sup_extension_requests_case_id", "sup_extension_requests", ["case_id"], unique=False
    )

    op.create_table(
        "sup_holiday_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=100), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("days_off", sa.JSON(), nullable=False),
        sa.Column("workdays", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("loaded_by", sa.String(length=60), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sup_holiday_notices_year", "sup_holiday_notices", ["year"], unique=False)

    op.create_table(
        "sup_repeat_arrivals",
        sa.Column("item_case_id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("item_case_number", sa.String(length=40), nullable=False),
        sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("item_case_id"),
    )
    op.create_index(
        "ix_repeat_arrivals_case", "sup_repeat_arrivals", ["case_id", "arrived_at"], unique=False
    )

    op.create_table(
        "sup_repeat_wave_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("arrivals", sa.Integer(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sup_repeat_wave_alerts_case_id", "sup_repeat_wave_alerts", ["case_id"], unique=False
    )

    op.create_table(
        "supervision_orders",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("deadline_id", sa.String(length=36), nullable=False),
        sa.Column("issued_by", sa.String(length=30), nullable=False),
        sa.Column("issued_to", sa.String(length=30), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("feedback_due", sa.Date(), nullable=False),
        sa.Column("feedback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_supervision_orders_case_id", "supervision_orders", ["case_id"], unique=False
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
    op.drop_table("supervision_orders")
    op.drop_table("sup_repeat_wave_alerts")
    op.drop_table("sup_repeat_arrivals")
    op.drop_table("sup_holiday_notices")
    op.drop_table("sup_extension_requests")
    op.drop_table("sup_emerging_alerts")
    op.drop_table("sup_category_labels")
    op.drop_table("sup_cases")
    op.drop_table("sup_case_history")
    op.drop_table("processed_events")
    op.drop_table("outbox")
    op.drop_table("deadlines")
    op.drop_table("deadline_notices")
