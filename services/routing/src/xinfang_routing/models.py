"""Routing's tables: every hop of every case (who sent it where, when, why)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

hops = Table(
    "routing_hops",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("hop", Integer, primary_key=True),
    Column("case_number", String(40), nullable=False),
    Column("action", String(10), nullable=False),
    Column("from_unit_code", String(20), nullable=False),
    Column("from_unit_name", String(100), nullable=False),
    Column("to_unit_code", String(20), nullable=False, index=True),
    Column("to_unit_name", String(100), nullable=False),
    Column("reason", String(300), nullable=False),
    Column("needs_manual_triage", Boolean, nullable=False),
    Column("received_at", AwareDateTime(), nullable=False),
    Column("routed_at", AwareDateTime(), nullable=False),
)

outbox, processed_events = messaging_tables(metadata)
