"""Supervision's database migrations (Alembic): env.py and versions/, run at start-up by
xinfang_shared.migrate.upgrade_to_head; `python -m xinfang_shared.migrate supervision revision -m ...`
writes a new one."""
