"""Alembic's entry point for routing's database (see xinfang_shared.migrate)."""

from __future__ import annotations

from xinfang_shared.migrate import run_env

from xinfang_routing.models import metadata

run_env(metadata)
