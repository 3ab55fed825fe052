"""worklist (issue #16): where the matter is and the 包案领导's account on each case, and the
indexes the worklist's scope and due-date queries use.

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
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deadlines_case_status_due", ["case_id", "status", "due_date"], unique=False
        )
    with op.batch_alter_table("sup_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leader_username", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("place_code", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("place_name", sa.String(length=100), nullable=True))
        batch_op.create_index("ix_sup_cases_supervising_code", ["supervising_code"], unique=False)
        batch_op.create_index("ix_sup_cases_unit_code", ["unit_code"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sup_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_sup_cases_unit_code")
        batch_op.drop_index("ix_sup_cases_supervising_code")
        batch_op.drop_column("place_name")
        batch_op.drop_column("place_code")
        batch_op.drop_column("leader_username")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index("ix_deadlines_case_status_due")
