"""Supervision's tables: deadlines (the statutory clock of each case) and notices sent."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, MetaData, String, Table, UniqueConstraint
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("label", String(100), nullable=False),
    Column("basis", String(100), nullable=False),
    Column("unit_code", String(20), nullable=False),
    Column("unit_name", String(100), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(20), nullable=False),  # open | met | cancelled
    Column("stage_done", Integer, nullable=False),  # last checkpoint notified, -1 none
    Column("next_check", Date, nullable=True),  # the date the sweep must look again
    Column("created_at", AwareDateTime(), nullable=False),
    UniqueConstraint("case_id", "kind", name="uq_deadline_case_kind"),
    Index("ix_deadlines_next_check", "next_check"),
)

notices = Table(
    "deadline_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deadline_id", String(36), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("sent_at", AwareDateTime(), nullable=False),
    UniqueConstraint("deadline_id", "stage", name="uq_notice_deadline_stage"),
)

outbox, processed_events = messaging_tables(metadata)
