"""Alembic's entry point for reports's database (see xinfang_shared.migrate)."""

from __future__ import annotations

from xinfang_shared.migrate import run_env

from xinfang_reports.models import metadata

run_env(metadata)
