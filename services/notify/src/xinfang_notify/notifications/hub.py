"""In-process fan-out to live SSE clients. Every message is also in the database, so a client
that reconnects with ``Last-Event-ID`` gets what it missed."""

from __future__ import annotations

import asyncio
from typing import Any


class Subscription:
    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(size)
        self.dropped = False


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[Subscription] = set()
        self._size = queue_size

    def subscribe(self) -> Subscription:
        sub = Subscription(self._size)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def publish(self, item: dict[str, Any]) -> None:
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(item)
            except asyncio.QueueFull:
                # A client that does not keep up is cut off; it reconnects with Last-Event-ID.
                sub.dropped = True
                self._subscribers.discard(sub)

    def close_all(self) -> None:
        """End every live stream (on shutdown); clients reconnect elsewhere with Last-Event-ID."""
        for sub in list(self._subscribers):
            sub.dropped = True
            try:
                sub.queue.put_nowait({})
            except asyncio.QueueFull:
                pass
        self._subscribers.clear()

    @property
    def clients(self) -> int:
        return len(self._subscribers)
