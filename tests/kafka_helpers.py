"""Reading topics in tests, straight from the real broker (no consumer group)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition


class TopicReader:
    """Collects every message of some topics from their beginning."""

    def __init__(self, servers: str, *topics: str) -> None:
        self.servers = servers
        self.topics = topics
        self.messages: list[Any] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TopicReader:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.servers, enable_auto_commit=False)
        await self._consumer.start()
        parts = []
        for t in self.topics:
            for p in self._consumer.partitions_for_topic(t) or await self._partitions(t):
                parts.append(TopicPartition(t, p))
        self._consumer.assign(parts)
        await self._consumer.seek_to_beginning(*parts)
        self._task = asyncio.create_task(self._pump())
        return self

    async def _partitions(self, topic: str) -> set[int]:
        assert self._consumer is not None
        await self._consumer._client.force_metadata_update()
        return self._consumer.partitions_for_topic(topic) or set()

    async def _pump(self) -> None:
        assert self._consumer is not None
        async for msg in self._consumer:
            if msg.value is not None:  # skip the launcher's records that open partitions
                self.messages.append(msg)

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
        if self._consumer:
            await self._consumer.stop()

    def events(
        self, *, type_: str | None = None, subject: str | None = None
    ) -> list[dict[str, Any]]:
        out = []
        for m in self.messages:
            try:
                doc = json.loads(m.value)
            except ValueError:
                continue
            if type_ and doc.get("type") != type_:
                continue
            if subject and doc.get("subject") != subject:
                continue
            out.append(doc)
        return out

    def values(self, topic: str) -> list[dict[str, Any]]:
        return [json.loads(m.value) for m in self.messages if m.topic == topic]


async def produce(servers: str, topic: str, value: bytes, key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()
