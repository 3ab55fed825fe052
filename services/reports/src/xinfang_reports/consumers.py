"""The events the read model is kept from (filled in by the projection)."""

from __future__ import annotations

from xinfang_shared.consumer import Handler

TOPICS: list[str] = []


def handlers() -> dict[str, Handler]:
    return {}
