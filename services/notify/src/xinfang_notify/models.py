"""Notify's tables: the notification log (what each recipient was told, the dashboard feed),
the deliveries of each notification on each channel (e-mail, SMS, robots, inbox), the alerts
that must be acknowledged, and petitioners' contact details per case."""

from __future__ import annotations

from sqlalchemy import (
    Column,
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
    Column("unit_code", String(30), nullable=True),  # whose org may see it (dashboard filter)
    Column("alert_id", String(36), nullable=True),  # set when it must be acknowledged
    Column("level", String(10), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(300), nullable=True),
    Column("created_at", AwareDateTime(), nullable=False),
    UniqueConstraint("source_event_id", "channel", "recipient", name="uq_notification_once"),
)

# One row per (event, channel, address): the unique constraint is what makes "one message per
# recipient per event" hold when events are redelivered. The row is also the delivery's queue
# entry (status pending → sent | dead | skipped) and its log.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(36), nullable=False, unique=True),
    Column("source_event_id", String(64), nullable=False),
    Column("case_id", String(36), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("channel", String(20), nullable=False),  # inbox | email | sms | wecom | dingtalk
    Column("address", String(300), nullable=False),  # person id, e-mail, phone, webhook URL
    Column("person_id", String(60), nullable=True, index=True),
    Column("recipient", String(60), nullable=False),  # who it was meant for (unit, role, …)
    Column("level", String(10), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(300), nullable=True),
    Column("secret", String(200), nullable=True),  # robot signing secret (from the directory)
    Column("template_id", String(60), nullable=True),
    Column("params", Text, nullable=True),  # SMS template parameters (JSON)
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", AwareDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("receipt", String(200), nullable=True),
    Column("created_at", AwareDateTime(), nullable=False),
    Column("sent_at", AwareDateTime(), nullable=True),
    Column("read_at", AwareDateTime(), nullable=True),  # inbox
    # the alert it tells of: one person is told of an alert once per period (service.py)
    Column("alert_id", String(36), nullable=True),
    UniqueConstraint("source_event_id", "channel", "address", name="uq_delivery_once"),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_alert", "alert_id", "created_at"),
)

# Alerts that someone must acknowledge (集体访, 群体性苗头); unacknowledged ones go up a level
# every XF_ALERT_ACK_TIMEOUT_MIN until someone does; at the top of the tree its leadership is
# reminded on a bounded schedule (XF_ALERT_REMIND_*), counted from ``unit_since``.
alerts = Table(
    "alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),  # collective | emerging
    Column("case_id", String(36), nullable=False, index=True),
    Column("case_number", String(40), nullable=False),
    Column("title", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("origin_unit_code", String(30), nullable=False),
    Column("unit_code", String(30), nullable=False),  # the unit that must acknowledge now
    Column("escalations", Integer, nullable=False, default=0),
    Column("unit_since", AwareDateTime(), nullable=True),  # when it reached ``unit_code``
    Column("reminders", Integer, nullable=False, default=0),  # reminder periods at the top
    Column("raised_at", AwareDateTime(), nullable=False),
    Column("next_escalation_at", AwareDateTime(), nullable=True),
    Column("acknowledged_at", AwareDateTime(), nullable=True),
    Column("acknowledged_by", String(60), nullable=True),
    Column("ack_note", String(500), nullable=True),
    Index("ix_alerts_due", "acknowledged_at", "next_escalation_at"),
)

# The petitioner's contact details and 查询码, kept to tell them of their case (A23, A34).
case_contacts = Table(
    "case_contacts",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(40), nullable=False),
    Column("name", String(60), nullable=False),
    Column("phone", String(30), nullable=True),
    Column("email", String(200), nullable=True),
    Column("query_code", String(20), nullable=True),
    Column("office_name", String(60), nullable=False),
)

outbox, processed_events = messaging_tables(metadata)
