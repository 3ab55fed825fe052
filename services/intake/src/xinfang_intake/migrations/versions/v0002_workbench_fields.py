"""the staff workbench (issue #16): the handling unit and supervising office of a petition (from
case.routed), the letter's date, the caller's number, the case a registrar linked it to, and
whether a petitioner is a visit's representative (代表, 信访工作条例 第二十条); the indexes the
record search and the duplicate warning use.

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
    with op.batch_alter_table("petitions") as batch:
        batch.add_column(sa.Column("handling_unit_code", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("supervising_code", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("letter_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("caller_phone", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("repeat_of", sa.String(length=40), nullable=True))
    op.create_index(
        "ix_petitions_handling_unit_code", "petitions", ["handling_unit_code"], unique=False
    )
    op.create_index(
        "ix_petitions_supervising_code", "petitions", ["supervising_code"], unique=False
    )
    op.create_index("ix_petitions_caller_phone", "petitions", ["caller_phone"], unique=False)
    with op.batch_alter_table("petitioners") as batch:
        batch.add_column(
            sa.Column("representative", sa.Boolean(), server_default="0", nullable=False)
        )
    op.create_index("ix_petitioners_name", "petitioners", ["name"], unique=False)
    op.create_index("ix_petitioners_phone", "petitioners", ["phone"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_petitioners_phone", table_name="petitioners")
    op.drop_index("ix_petitioners_name", table_name="petitioners")
    with op.batch_alter_table("petitioners") as batch:
        batch.drop_column("representative")
    op.drop_index("ix_petitions_caller_phone", table_name="petitions")
    op.drop_index("ix_petitions_supervising_code", table_name="petitions")
    op.drop_index("ix_petitions_handling_unit_code", table_name="petitions")
    with op.batch_alter_table("petitions") as batch:
        for column in ("repeat_of", "caller_phone", "letter_date", "supervising_code"):
            batch.drop_column(column)
        batch.drop_column("handling_unit_code")
