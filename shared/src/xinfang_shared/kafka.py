"""Kafka helpers: producer factory, topic creation, broker ping."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.metadata import MetadataRequest

from xinfang_shared.topics import TopicSpec

TOPIC_ALREADY_EXISTS = 36


def forbid_topic_auto_creation() -> None:
    """Make this process's Kafka clients (aiokafka's and faust's) ask the broker never to
    create a topic on a metadata request. Topics are created by the launcher only, with their
    partition counts. Tansu (like Kafka with ``auto.create.topics.enable``) otherwise creates a
    missing topic with its own default: after an empty restart, a relay that asked first made
    ``petition.received`` 4 partitions instead of 3, and a consumer assigned 3 never read the
    fourth (the broker-restart fault test lost 43 of 300). A send to a missing topic now waits
    and is retried until the launcher has created it.

    Patches aiokafka's private defaults: pinned by tests/unit/test_library_patches.py::
    test_metadata_requests_never_ask_the_broker_to_create_topics (fails when aiokafka changes)."""
    defaults = MetadataRequest.__init__.__defaults__
    if defaults != (None, False):
        MetadataRequest.__init__.__defaults__ = (None, False)


def make_producer(servers: list[str], **overrides: Any) -> AIOKafkaProducer:
    forbid_topic_auto_creation()
    opts: dict[str, Any] = {
        "bootstrap_servers": servers,
        "acks": "all",
        "linger_ms": 2,
        "request_timeout_ms": 10000,
        "retry_backoff_ms": 200,
    }
    opts.update(overrides)
    return AIOKafkaProducer(**opts)


async def create_topics(
    servers: list[str], specs: list[TopicSpec], *, timeout: float = 10
) -> dict[str, str]:
    """Create every topic that does not exist yet; returns name -> created|exists."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=int(timeout * 1000))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        todo = [s for s in specs if s.name not in existing]
        result = {s.name: "exists" for s in specs if s.name in existing}
        if todo:
            resp = await admin.create_topics(
                [NewTopic(s.name, num_partitions=s.partitions, replication_factor=1) for s in todo]
            )
            for name, code, msg in resp.topic_errors:
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"could not create topic {name}: {code} {msg}")
                result[name] = "created" if code == 0 else "exists"
        return result
    finally:
        await admin.close()


async def ping(servers: list[str], *, timeout: float = 2.0) -> None:
    """Raise if the broker does not answer a metadata request within ``timeout`` seconds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=int(timeout * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout)
        await asyncio.wait_for(admin.list_topics(), timeout)
    finally:
        await admin.close()
