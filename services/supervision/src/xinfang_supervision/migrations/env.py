"""Alembic's entry point for supervision's database (see xinfang_shared.migrate)."""

from __future__ import annotations

from xinfang_shared.migrate import run_env

from xinfang_supervision.models import metadata

run_env(metadata)
