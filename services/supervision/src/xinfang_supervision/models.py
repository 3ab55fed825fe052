"""Supervision's tables: the case lifecycle (state and history), deadlines and the notices sent
for them, and 督办 orders."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

cases = Table(
    "sup_cases",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(40), nullable=False),
    Column("profile", String(30), nullable=False),  # the rule profile the case was opened under
    Column("status", String(30), nullable=False),
    Column("unit_code", String(30), nullable=False),  # the body handling it
    Column("unit_name", String(100), nullable=False),
    Column("supervising_code", String(30), nullable=True),
    Column("category", String(40), nullable=True),
    Column("received_at", AwareDateTime(), nullable=False),
    Column("routed_at", AwareDateTime(), nullable=False),
    Column("accepted_at", AwareDateTime(), nullable=True),
    Column("replied_at", AwareDateTime(), nullable=True),
    Column("reply_outcome", String(20), nullable=True),
    Column("review_answered_at", AwareDateTime(), nullable=True),
    Column("extension_days", Integer, nullable=False, server_default="0"),
    Column("leader", String(60), nullable=True),  # 包案领导 (the name a person reads)
    Column("leader_username", String(32), nullable=True),  # the 包案领导's account, if named
    Column("repeat_count", Integer, nullable=False, server_default="1"),
    Column("escalations", Integer, nullable=False, server_default="0"),
    Column("backlog", Boolean, nullable=False, server_default="0"),  # 积案
    Column("backlog_reasons", JSON, nullable=True),
    Column("updated_at", AwareDateTime(), nullable=False),
    # where the matter is (village/community, else township), from the first routing
    Column("place_code", String(30), nullable=True),
    Column("place_name", String(100), nullable=True),
    # the worklist (worklist/): scoped by the unit handling or the office supervising
    Index("ix_sup_cases_unit_code", "unit_code"),
    Index("ix_sup_cases_supervising_code", "supervising_code"),
)

history = Table(
    "sup_case_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("at", AwareDateTime(), nullable=False),
    Column("actor", String(60), nullable=False),
    Column("action", String(30), nullable=False),
    Column("from_state", String(30), nullable=True),
    Column("to_state", String(30), nullable=True),
    Column("note", Text, nullable=True),
    Column("detail", JSON, nullable=True),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("label", String(100), nullable=False),
    Column("basis", String(100), nullable=False),
    Column("unit_code", String(30), nullable=False),
    Column("unit_name", String(100), nullable=False),
    Column(
        "supervisor_code", String(30), nullable=True
    ),  # who watches it now (moves up on escalation)
    Column("start_date", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("status", String(20), nullable=False),  # open | met | cancelled
    Column("met_at", AwareDateTime(), nullable=True),
    Column("stage_done", Integer, nullable=False),  # last checkpoint acted on, -1 none
    Column("next_check", Date, nullable=True),  # the date the sweep must look again
    Column("created_at", AwareDateTime(), nullable=False),
    UniqueConstraint("case_id", "kind", name="uq_deadline_case_kind"),
    Index("ix_deadlines_next_check", "next_check"),
    # each case's next open deadline (the worklist's sort and due filters)
    Index("ix_deadlines_case_status_due", "case_id", "status", "due_date"),
)

notices = Table(
    "deadline_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deadline_id", String(36), nullable=False),
    Column("stage", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("sent_at", AwareDateTime(), nullable=False),
    UniqueConstraint("deadline_id", "stage", name="uq_notice_deadline_stage"),
)

orders = Table(
    "supervision_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("deadline_id", String(36), nullable=False),
    Column("issued_by", String(30), nullable=False),
    Column("issued_to", String(30), nullable=False),
    Column("issued_at", AwareDateTime(), nullable=False),
    Column("feedback_due", Date, nullable=False),
    Column("feedback_at", AwareDateTime(), nullable=True),
    Column("feedback", Text, nullable=True),
)

# 群体性苗头: one row per alert raised by the windowed-table detector (emerging.py). Later items
# of the same place + matter within the alert's window join it instead of raising another.
emerging_alerts = Table(
    "sup_emerging_alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("place_code", String(30), nullable=False),
    Column("category", String(40), nullable=False),
    Column("window_start", AwareDateTime(), nullable=False),
    Column("window_end", AwareDateTime(), nullable=False),
    Column("petitioners", Integer, nullable=False),
    Column("members", JSON, nullable=False),  # [{case_id, case_number}]
    Column("raised_at", AwareDateTime(), nullable=False),
    Column("updated_at", AwareDateTime(), nullable=False),
    Index("ix_emerging_place", "place_code", "category", "window_end"),
)

# Repeat arrivals of a case (from case.linked), for repeat-wave alerts.
repeat_arrivals = Table(
    "sup_repeat_arrivals",
    metadata,
    Column("item_case_id", String(36), primary_key=True),
    Column("case_id", String(36), nullable=False),
    Column("item_case_number", String(40), nullable=False),
    Column("arrived_at", AwareDateTime(), nullable=False),
    Index("ix_repeat_arrivals_case", "case_id", "arrived_at"),
)
repeat_wave_alerts = Table(
    "sup_repeat_wave_alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("arrivals", Integer, nullable=False),
    Column("raised_at", AwareDateTime(), nullable=False),
)

outbox, processed_events = messaging_tables(metadata)

# The yearly holiday notices (放假安排的通知) an administrator loaded: one row per load, never
# updated (the audit trail); a year's notice in force is its newest row.
holiday_notices = Table(
    "sup_holiday_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("year", Integer, nullable=False, index=True),
    Column("document", String(100), nullable=False),  # 文号, e.g. 国办发明电〔2026〕7号
    Column("holidays", JSON, nullable=False),  # [{name, start, end}] as the notice lists them
    Column("days_off", JSON, nullable=False),  # ["YYYY-MM-DD", …]
    Column("workdays", JSON, nullable=False),  # make-up working days
    Column("reason", Text, nullable=True),
    Column("loaded_by", String(60), nullable=False),
    Column("loaded_at", AwareDateTime(), nullable=False),
)

# A handler's request to extend the handling period, until a leader of the body decides it.
extension_requests = Table(
    "sup_extension_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(36), nullable=False, index=True),
    Column("days", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("requested_by", String(60), nullable=False),
    Column("requested_at", AwareDateTime(), nullable=False),
    Column("decision", String(20), nullable=True),  # None pending | approved
    Column("decided_by", String(60), nullable=True),
    Column("decided_at", AwareDateTime(), nullable=True),
)

# The Chinese name of each matter (category) code, as routing's rules name it on case.routed.
category_labels = Table(
    "sup_category_labels",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("label", String(100), nullable=False),
)
