"""Routing's tables: the org tree versions it routes by and the audit of loading them, every hop of every case (who sent it
where, when, why), each case's current assignment, and the repeat index."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

org_tree_versions = Table(
    "org_tree_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("version", String(60), nullable=False),
    Column("source", Text, nullable=False),  # the YAML as loaded
    Column("units", Integer, nullable=False),
    Column("departments", Integer, nullable=False),
    Column("loaded_by", String(60), nullable=False),
    Column("loaded_at", AwareDateTime(), nullable=False),
)

# Every attempt to load a tree, refused ones included: who (from the token), when, what it
# would have changed, why refused, and the reason given when forced.
org_tree_audit = Table(
    "org_tree_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", AwareDateTime(), nullable=False),
    Column("actor", String(60), nullable=False),
    Column("actor_org", String(40), nullable=False),
    Column("outcome", String(20), nullable=False),  # loaded | forbidden | invalid | in_use
    Column("version", String(60), nullable=True),
    Column("version_id", Integer, nullable=True),
    Column("forced", Boolean, nullable=False),
    Column("reason", String(500), nullable=True),
    Column("changes", JSON, nullable=True),  # units/departments added and removed
    Column("problems", JSON, nullable=True),  # why it was refused (the first ones)
)

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
    Column("reason", String(500), nullable=False),
    Column("actor", String(60), nullable=False),
    Column("needs_manual_triage", Boolean, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("transfer_due", Date, nullable=True),
    Column("received_at", AwareDateTime(), nullable=False),
    Column("routed_at", AwareDateTime(), nullable=False),
)

cases = Table(
    "routing_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(40), nullable=False),
    Column("receiving_office_code", String(20), nullable=False),
    Column("received_at", AwareDateTime(), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("category", String(40), nullable=True),
    Column("category_source", String(20), nullable=False),
    Column("kind", String(10), nullable=True),
    Column("legal_channel", String(20), nullable=False),
    Column("confidential", Boolean, nullable=False),
    Column("territory_code", String(20), nullable=True),
    Column("responsible_unit_code", String(20), nullable=True),
    Column("holder_code", String(30), nullable=True),  # department now holding the case
    Column("holder_since", AwareDateTime(), nullable=True),
    Column("supervising_code", String(30), nullable=True),
    Column("skip_level", Boolean, nullable=False),
    Column("status", String(20), nullable=False),  # routed | linked | closed
    Column("linked_to", String(36), nullable=True, index=True),
    Column("repeat_count", Integer, nullable=False),
    Column("decision", JSON, nullable=True),
)

fingerprints = Table(
    "repeat_fingerprints",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False, unique=True),
    Column("root_case_id", String(36), nullable=False),  # the original this item belongs to
    Column("identity_keys", JSON, nullable=False),  # salted identity keys
    Column("signature", LargeBinary, nullable=False),  # MinHash of the text
    # the matter profile (repeats.Profile): character code points + TF-IDF weights, and the
    # category probabilities by name; NULL on rows stored before it existed (MinHash only)
    # and for anonymous items.
    Column("terms", LargeBinary, nullable=True),
    Column("topic", JSON, nullable=True),
    Column("category", String(40), nullable=True),  # the matter: category + responsible body
    Column("department", String(30), nullable=True),
    Column("received_at", AwareDateTime(), nullable=False),
)

outbox, processed_events = messaging_tables(metadata)
