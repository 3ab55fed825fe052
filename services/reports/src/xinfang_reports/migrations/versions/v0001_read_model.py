"""the reporting read model (issue 17)

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

# the tables a database created by ``metadata.create_all`` before the migrations would hold
# (xinfang_shared.migrate adopts such a database): no release of this service did, so none
TABLES: dict[str, tuple[str, ...]] = {}


def upgrade() -> None:
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
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)

    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_table(
        "rpt_items",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_date", sa.Date(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("persons", sa.Integer(), nullable=True),
        sa.Column("collective", sa.Boolean(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("informant_sealed", sa.Boolean(), nullable=False),
        sa.Column("petitioners", sa.String(length=200), nullable=True),
        sa.Column("receiving_office_code", sa.String(length=40), nullable=True),
        sa.Column("receiving_office_name", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("summary", sa.String(length=300), nullable=True),
        sa.Column("place_code", sa.String(length=40), nullable=True),
        sa.Column("place_name", sa.String(length=100), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("category_name", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=True),
        sa.Column("skip_level", sa.Boolean(), nullable=False),
        sa.Column("legal_channel", sa.Boolean(), nullable=False),
        sa.Column("handling_code", sa.String(length=40), nullable=True),
        sa.Column("handling_name", sa.String(length=100), nullable=True),
        sa.Column("supervising_code", sa.String(length=40), nullable=True),
        sa.Column("route_hop", sa.Integer(), nullable=True),
        sa.Column("repeat_match", sa.String(length=10), nullable=True),
        sa.Column("linked_case_number", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=True),
        sa.Column("status_label", sa.String(length=60), nullable=True),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_date", sa.Date(), nullable=True),
        sa.Column("decision", sa.String(length=24), nullable=True),
        sa.Column("accept_due", sa.Date(), nullable=True),
        sa.Column("replied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replied_date", sa.Date(), nullable=True),
        sa.Column("reply_due", sa.Date(), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=200), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("first_overdue_date", sa.Date(), nullable=True),
        sa.Column("supervised", sa.Boolean(), nullable=False),
        sa.Column("first_order_date", sa.Date(), nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(length=60), nullable=True),
        sa.Column("backlog", sa.Boolean(), nullable=False),
        sa.Column("backlog_date", sa.Date(), nullable=True),
        sa.Column("backlog_reasons", sa.String(length=300), nullable=True),
        sa.Column("collective_alert", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    with op.batch_alter_table("rpt_items", schema=None) as batch_op:
        batch_op.create_index("ix_rpt_items_backlog", ["backlog", "backlog_date"], unique=False)
        batch_op.create_index("ix_rpt_items_case_number", ["case_number"], unique=False)
        batch_op.create_index(
            "ix_rpt_items_handling", ["handling_code", "received_date"], unique=False
        )
        batch_op.create_index("ix_rpt_items_place", ["place_code", "received_date"], unique=False)
        batch_op.create_index("ix_rpt_items_received_date", ["received_date"], unique=False)
        batch_op.create_index(
            "ix_rpt_items_receiving", ["receiving_office_code", "received_date"], unique=False
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
    with op.batch_alter_table("rpt_items", schema=None) as batch_op:
        batch_op.drop_index("ix_rpt_items_receiving")
        batch_op.drop_index("ix_rpt_items_received_date")
        batch_op.drop_index("ix_rpt_items_place")
        batch_op.drop_index("ix_rpt_items_handling")
        batch_op.drop_index("ix_rpt_items_case_number")
        batch_op.drop_index("ix_rpt_items_backlog")

    op.drop_table("rpt_items")
    op.drop_table("processed_events")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))

    op.drop_table("outbox")
