"""Chinese labels beside the codes in supervision's JSON (``status_label``, ``category_label``,
``kind_label``…): from data (``data/labels.yaml``, the lifecycle's labels, and the category
names routing sends with each case)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from xinfang_supervision.lifecycle import ACTION_LABELS, LABELS, State
from xinfang_supervision.models import category_labels


@lru_cache(maxsize=1)
def tables() -> dict[str, dict[str, str]]:
    text = (
        resources.files("xinfang_supervision")
        .joinpath("data/labels.yaml")
        .read_text(encoding="utf-8")
    )
    doc = yaml.safe_load(text)
    return {k: {str(c): str(v) for c, v in (doc.get(k) or {}).items()} for k in doc}


def status_label(status: str | None) -> str | None:
    if status is not None and status in State._value2member_map_:
        return LABELS[State(status)]
    return status


def action_label(action: str) -> str:
    known = {a.value: label for a, label in ACTION_LABELS.items()}
    return known.get(action) or tables()["history_action"].get(action, action)


def deadline_status_label(status: str) -> str:
    return tables()["deadline_status"].get(status, status)


def notice_kind_label(kind: str) -> str:
    return tables()["notice_kind"].get(kind, kind)


async def remember_category(session: AsyncSession, code: str | None, label: str | None) -> None:
    """Keep the name routing gave a category code (the newest wins)."""
    if not code or not label:
        return
    bind = session.get_bind()
    dialect = postgresql if bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(category_labels).values(code=code, label=label[:100])
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[category_labels.c.code], set_={"label": label[:100]}
        )
    )


async def category_names(session: AsyncSession) -> dict[str, str]:
    rows = await session.execute(select(category_labels.c.code, category_labels.c.label))
    return {r.code: r.label for r in rows}


def label_case(row: dict[str, Any], categories: dict[str, str]) -> dict[str, Any]:
    """A case row with the labels a person reads beside its codes."""
    category = row.get("category")
    return {
        **row,
        "status_label": status_label(row.get("status")),
        "category_label": categories.get(category, category) if category else None,
    }
