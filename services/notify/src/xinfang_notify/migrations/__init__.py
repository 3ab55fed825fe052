"""Notify's database migrations (Alembic): env.py and versions/, run at start-up by
xinfang_shared.migrate.upgrade_to_head; `python -m xinfang_shared.migrate notify revision -m ...`
writes a new one."""
