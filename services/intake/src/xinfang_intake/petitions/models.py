"""Intake's tables. Intake owns the petition record and the petitioner's personal data."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from xinfang_shared.auth.models import login_failures_table, users_table
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

petitions = Table(
    "petitions",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(40), nullable=False, unique=True),
    Column("query_code", String(16), nullable=False, unique=True),
    Column("channel", String(20), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("persons", Integer, nullable=False),
    Column("receiving_office_code", String(12), nullable=False, index=True),
    Column("matter_location_code", String(12), nullable=True),
    Column("matter_address", String(300), nullable=True),
    Column("category", String(50), nullable=True),
    Column("title", String(200), nullable=True),
    Column("content", Text, nullable=False),
    Column("collective", Boolean, nullable=False),
    Column("received_at", AwareDateTime(), nullable=False),
    Column("registered_at", AwareDateTime(), nullable=False),
    Column("status", String(30), nullable=False),
    Column("status_at", AwareDateTime(), nullable=False),
    Column("handling_unit_name", String(100), nullable=True),
    Column("deadlines", JSON, nullable=True),  # as last announced by supervision
    Column("next_step", String(300), nullable=True),
    # from case.routed (the final hop): who handles it and the office that supervises it
    Column("handling_unit_code", String(30), nullable=True, index=True),
    Column("supervising_code", String(30), nullable=True, index=True),
    Column("letter_date", Date, nullable=True),  # 来信: the date on the letter
    Column("caller_phone", String(30), nullable=True, index=True),  # 来电: the number that called
    Column("repeat_of", String(40), nullable=True),  # a case number the registrar linked
)

petitioners = Table(
    "petitioners",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("petitions.case_id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("name", String(50), nullable=False),
    Column("id_number", String(18), nullable=True),
    Column("id_hash", String(64), nullable=True, index=True),
    Column("phone", String(30), nullable=True),
    Column("email", String(254), nullable=True),
    Column("address", String(200), nullable=True),
    Column("representative", Boolean, nullable=False, server_default="0"),  # 来访: 代表 (A20)
    Index("ix_petitioners_name", "name"),
    Index("ix_petitioners_phone", "phone"),
)

history = Table(
    "petition_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("petitions.case_id"), nullable=False, index=True),
    Column("at", AwareDateTime(), nullable=False),
    Column("status", String(30), nullable=False),
    Column("note", String(500), nullable=True),
    Column("detail", JSON, nullable=True),
)

# 检举控告: the identity of the informants of an accusation case, AES-GCM-encrypted (one value
# per case: the list of its petitioners). Their rows in `petitioners` then hold only a
# placeholder name. Absent for every other petition (and for anonymous accusations).
sealed_informants = Table(
    "sealed_informants",
    metadata,
    Column("case_id", String(36), ForeignKey("petitions.case_id"), primary_key=True),
    Column("identity", LargeBinary, nullable=False),
    Column("sealed_at", AwareDateTime(), nullable=False),
)

# Every attempt to reveal a sealed informant, allowed or refused (written in the transaction
# that reads the identity): who, with which role and org, when, why, about which case.
informant_reveals = Table(
    "informant_reveals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), ForeignKey("petitions.case_id"), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("office_code", String(12), nullable=False, index=True),  # the receiving office
    Column("at", AwareDateTime(), nullable=False),
    Column("username", String(40), nullable=False),
    Column("actor", String(60), nullable=False),
    Column("role", String(20), nullable=False),
    Column("org_code", String(40), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("outcome", String(20), nullable=False),  # revealed | refused | unreadable
)

case_number_blocks = Table(
    "case_number_blocks",
    metadata,
    Column("office_code", String(12), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("next_value", Integer, nullable=False),
)

# Idempotency-Key: a retried POST gets the original response, never a second petition. Written
# in the same transaction as the petition, so a key exists exactly when its petition does.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("case_id", String(36), ForeignKey("petitions.case_id"), nullable=False),
    Column("response", JSON, nullable=False),
    Column("created_at", AwareDateTime(), nullable=False, index=True),
)

outbox, processed_events = messaging_tables(metadata)

# Staff accounts (xinfang_shared.auth): intake hosts login for its level.
users = users_table(metadata)
login_failures = login_failures_table(metadata)
