"""Roles and the ``users`` table.

A service that hosts login adds the table to its own metadata with :func:`users_table` (intake
does). The service functions query :data:`users`, the canonical definition of the same table:
SQLAlchemy Core compiles a query by table and column names, so it runs against any service
database whose metadata got the table through :func:`users_table`.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, true

from xinfang_shared.db import AwareDateTime


class Role(StrEnum):
    REGISTRAR = "registrar"  # registers petitions at the office counter
    HANDLER = "handler"  # handles cases routed to their department/unit
    SUPERVISOR = "supervisor"  # supervises deadlines and handling in their subtree
    LEADER = "leader"  # leader in charge of cases (包案领导)
    ADMIN = "admin"  # manages user accounts in their subtree
    SERVICE = "service"  # a machine: one service calling another (never a person)


ROLE_LABELS: dict[Role, str] = {
    Role.REGISTRAR: "登记员",
    Role.HANDLER: "承办人",
    Role.SUPERVISOR: "督办员",
    Role.LEADER: "包案领导",
    Role.ADMIN: "管理员",
    Role.SERVICE: "服务账号",
}

# Roles a person can hold; service principals come from service tokens, not from accounts.
PERSON_ROLES: tuple[Role, ...] = tuple(r for r in Role if r is not Role.SERVICE)

USERNAME_MAX = 32
DISPLAY_NAME_MAX = 50

users = Table(
    "users",
    MetaData(),  # the canonical definition; services get copies through users_table()
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(USERNAME_MAX), nullable=False, unique=True),
    Column("display_name", String(DISPLAY_NAME_MAX), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    # an org unit code (6/9/12 digits) or a department code (e.g. 339922-zrzy)
    Column("org_code", String(40), nullable=False, index=True),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", AwareDateTime(), nullable=False),
)


def login_failures_table(metadata: MetaData) -> Table:
    """Add the login throttle's counters (:mod:`xinfang_shared.auth.throttle`) to a service's
    metadata and return the table: in the database, so every replica counts the same attempts."""
    from xinfang_shared.auth.throttle import login_throttle_table

    return login_throttle_table(metadata)


def users_table(metadata: MetaData) -> Table:
    """Add the ``users`` table to a service's metadata (its migrations create it) and return it."""
    return users.to_metadata(metadata)
