"""The embedded broker launcher (deploy/broker.py) against a Tansu of its own."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from xinfang_shared.kafka import make_producer
from xinfang_shared.topics import all_topics, emerging_changelog_topic

from deploy import broker as broker_launcher
from tests.conftest import free_port

EMERGING_CHANGELOG_TOPIC = emerging_changelog_topic("339900")


async def _read_all(
    servers: list[str], topic: str, partitions: int
) -> list[tuple[int, bytes | None]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[tuple[int, bytes | None]] = []
        idle = 0
        while idle < 3:
            batch = await consumer.getmany(timeout_ms=300)
            idle = 0 if batch else idle + 1
            out += [(m.partition, m.value) for msgs in batch.values() for m in msgs]
        return out
    finally:
        await consumer.stop()


async def test_new_partitions_are_opened_and_concurrent_first_writes_are_all_readable(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = await asyncio.to_thread(broker_launcher.launch, port, 3, tmp_path / "broker.log")
    servers = [f"127.0.0.1:{port}"]
    try:
        # three producers race to write a fresh topic's partitions first: on a partition Tansu
        # had never written, such first batches were sometimes acknowledged and then lost
        producers = [make_producer(servers) for _ in range(3)]
        for p in producers:
            await p.start()

        async def blast(i: int, producer: object) -> None:
            futures = [
                await producer.send(  # type: ignore[attr-defined]
                    "petition.received", value=f"{i}-{j}".encode(), key=f"k{j}".encode()
                )
                for j in range(200)
            ]
            await asyncio.gather(*futures)

        await asyncio.gather(*(blast(i, p) for i, p in enumerate(producers)))
        for p in producers:
            await p.stop()

        records = await _read_all(servers, "petition.received", 3)
        values = [v for _, v in records if v is not None]
        assert sorted(values) == sorted(f"{i}-{j}".encode() for i in range(3) for j in range(200))
        # every partition starts with the launcher's empty record, which consumers skip
        assert sorted(p for p, v in records if v is None) == [0, 1, 2]
        # a changelog is table state: the launcher leaves it empty
        assert await _read_all(servers, EMERGING_CHANGELOG_TOPIC, 3) == []
        assert {s.name for s in all_topics(3)} >= {"petition.received", EMERGING_CHANGELOG_TOPIC}
    finally:
        proc.terminate()
        proc.wait(10)


async def test_a_client_never_creates_a_topic_by_asking_for_it(broker: str) -> None:
    """A relay sending to a topic the launcher has not created (yet) waits; it does not make
    the broker create it with the broker's own partition count."""
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.errors import KafkaTimeoutError, UnknownTopicOrPartitionError

    producer = make_producer([broker], request_timeout_ms=1500)
    await producer.start()
    try:
        try:
            await producer.send_and_wait("not.created.by.the.launcher", b"x", key=b"k")
            raise AssertionError("the send should have waited for the topic")
        except (KafkaTimeoutError, UnknownTopicOrPartitionError):
            pass
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=[broker])
    await admin.start()
    try:
        assert "not.created.by.the.launcher" not in await admin.list_topics()
    finally:
        await admin.close()
