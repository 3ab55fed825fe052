from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, UniqueConstraint
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

notifications = Table(
    "notifications",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),  # SSE event id
    Column("notification_id", String(36), nullable=False, unique=True),
    Column("source_event_id", String(64), nullable=False),
    Column("source_event_type", String(64), nullable=False),
    Column("case_id", String(36), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("recipient", String(60), nullable=False, index=True),
    Column("level", String(10), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", AwareDateTime(), nullable=False),
    UniqueConstraint("source_event_id", "channel", "recipient", name="uq_notification_once"),
)

outbox, processed_events = messaging_tables(metadata)
