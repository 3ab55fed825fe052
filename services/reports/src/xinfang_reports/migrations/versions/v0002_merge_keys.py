"""the times the latest-wins columns are decided by (xinfang_reports.projection): the event
each deadline came from (accept_due_at, reply_due_at) and when the leader was named
(leader_at), so the live consumer and the rebuild reach the same row in any order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rpt_items") as batch:
        batch.add_column(sa.Column("accept_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reply_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("leader_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rpt_items") as batch:
        batch.drop_column("leader_at")
        batch.drop_column("reply_due_at")
        batch.drop_column("accept_due_at")
