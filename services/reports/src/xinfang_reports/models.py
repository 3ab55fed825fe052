"""The reporting read model: one row per item (件次) with everything the office's figures,
ledgers and reports need, kept from the events every service publishes.

Every column is written with a merge rule that does not depend on the order events arrive in
nor on how often one arrives (see :mod:`xinfang_reports.projection`): the first time a thing
happened is the earliest seen, a flag once set stays set, the status is the one of the latest
change. So the live consumer and the rebuild from the topics reach the same rows.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)
from xinfang_shared.db import AwareDateTime, messaging_tables

metadata = MetaData()

items = Table(
    "rpt_items",
    metadata,
    Column("case_id", String(36), primary_key=True),
    Column("case_number", String(40), nullable=True),
    # petition.received ---------------------------------------------------------------------
    Column("received_at", AwareDateTime(), nullable=True),
    Column("received_date", Date, nullable=True),  # the local (Asia/Shanghai) date
    Column("channel", String(20), nullable=True),  # letter|visit|phone|online|leader_mailbox
    Column("persons", Integer, nullable=True),  # 人数 (a visit: its 人次)
    Column("collective", Boolean, nullable=False, default=False),  # 集体访 / 联名信
    Column("anonymous", Boolean, nullable=False, default=False),
    Column("informant_sealed", Boolean, nullable=False, default=False),
    Column("petitioners", String(200), nullable=True),  # "张三、李四"; None when sealed
    Column("receiving_office_code", String(40), nullable=True),
    Column("receiving_office_name", String(100), nullable=True),
    Column("title", String(200), nullable=True),
    Column("summary", String(300), nullable=True),  # the content's first characters (事项)
    # case.routed ---------------------------------------------------------------------------
    Column("place_code", String(40), nullable=True),  # the village, else the township
    Column("place_name", String(100), nullable=True),
    Column("category", String(40), nullable=True),
    Column("category_name", String(100), nullable=True),
    Column("kind", String(10), nullable=True),  # 申诉求决 | 建议意见 | 检举控告
    Column("skip_level", Boolean, nullable=False, default=False),  # 越级访
    Column("legal_channel", Boolean, nullable=False, default=False),  # 涉法涉诉
    Column("handling_code", String(40), nullable=True),  # the body that handles it
    Column("handling_name", String(100), nullable=True),
    Column("supervising_code", String(40), nullable=True),
    Column("route_hop", Integer, nullable=True),  # the hop the handling body came from
    # case.linked ---------------------------------------------------------------------------
    Column("repeat_match", String(10), nullable=True),  # 重复信访 | 一信多投 | None (初信初访)
    Column("linked_case_number", String(40), nullable=True),
    # case.status_changed -------------------------------------------------------------------
    Column("status", String(24), nullable=True),
    Column("status_label", String(60), nullable=True),
    Column("status_at", AwareDateTime(), nullable=True),
    Column("decided_at", AwareDateTime(), nullable=True),  # first 受理 / 不予受理
    Column("decided_date", Date, nullable=True),
    Column("decision", String(24), nullable=True),  # accepted | not_accepted
    Column("accept_due", Date, nullable=True),  # the 受理告知 deadline (15 days)
    Column("accept_due_at", AwareDateTime(), nullable=True),  # the event accept_due came from
    Column("replied_at", AwareDateTime(), nullable=True),  # first 出具处理意见 (办结)
    Column("replied_date", Date, nullable=True),
    Column("reply_due", Date, nullable=True),  # the handling deadline, extension included
    Column("reply_due_at", AwareDateTime(), nullable=True),  # the event reply_due came from
    Column("extended", Boolean, nullable=False, default=False),
    Column("closed_at", AwareDateTime(), nullable=True),  # first closed / final
    Column("closed_date", Date, nullable=True),
    Column("outcome", String(200), nullable=True),  # the note of the reply (处理结果)
    # deadlines, 督办, escalation, leader, backlog, alerts -----------------------------------
    Column("overdue", Boolean, nullable=False, default=False),  # some deadline was missed
    Column("first_overdue_date", Date, nullable=True),
    Column("supervised", Boolean, nullable=False, default=False),  # 督办 issued
    Column("first_order_date", Date, nullable=True),
    Column("escalations", Integer, nullable=False, default=0),  # highest escalation seen
    Column("leader", String(60), nullable=True),  # 包案领导
    Column("leader_at", AwareDateTime(), nullable=True),  # when that leader was named
    Column("backlog", Boolean, nullable=False, default=False),  # 积案
    Column("backlog_date", Date, nullable=True),  # the first day it was in the backlog
    Column("backlog_reasons", String(300), nullable=True),  # "；"-joined, each once
    Column("collective_alert", Boolean, nullable=False, default=False),
    Index("ix_rpt_items_received_date", "received_date"),
    Index("ix_rpt_items_case_number", "case_number"),
    Index("ix_rpt_items_handling", "handling_code", "received_date"),
    Index("ix_rpt_items_receiving", "receiving_office_code", "received_date"),
    Index("ix_rpt_items_place", "place_code", "received_date"),
    Index("ix_rpt_items_backlog", "backlog", "backlog_date"),
)

# the service consumes and never publishes; the outbox exists because every service's runtime
# has one (it stays empty)
outbox, processed_events = messaging_tables(metadata)
