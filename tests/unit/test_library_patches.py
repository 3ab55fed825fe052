"""Pins on the three places where the platform reaches into aiokafka's or faust's private
parts. Each test fails when an upgrade of the library moves what the patch relies on, so the
upgrade is noticed here and not as a lost partition or a slow hop in production:

1. ``kafka.forbid_topic_auto_creation`` replaces the defaults of ``MetadataRequest.__init__``;
2. ``consumer._ConsumerThread`` (through faust's ``_new_transport``/``_new_consumer_thread``/
   ``_create_worker_consumer``) sets aiokafka's ``AIOKafkaConsumer._fetch_max_wait_ms``;
3. ``outbox.OutboxRelay._discard_producer`` cancels ``AIOKafkaProducer._sender.sender_task``.
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime
from pathlib import Path

import aiokafka
import faust
from aiokafka.producer.sender import Sender
from aiokafka.protocol.metadata import MetadataRequest, MetadataRequest_v4
from faust.transport.drivers import aiokafka as faust_kafka
from sqlalchemy import MetaData
from xinfang_shared import db
from xinfang_shared.clock import FixedClock
from xinfang_shared.consumer import (
    EventProcessor,
    XinfangFaustApp,
    _Consumer,
    _ConsumerThread,
    _Transport,
    build_faust_app,
)
from xinfang_shared.kafka import forbid_topic_auto_creation
from xinfang_shared.outbox import OutboxRelay
from xinfang_shared.settings import CommonSettings


# 1 -------------------------------------------------------------------------------------------
def test_metadata_requests_never_ask_the_broker_to_create_topics() -> None:
    params = list(inspect.signature(MetadataRequest.__init__).parameters)
    assert params == ["self", "topics", "allow_auto_topic_creation"], params
    forbid_topic_auto_creation()
    assert MetadataRequest.__init__.__defaults__ == (None, False)
    # what aiokafka's client builds for a metadata update (MetadataRequest(topics), no flag)
    client_src = inspect.getsource(aiokafka.client)
    assert "MetadataRequest(list(topics) if topics else None)" in client_src
    struct = MetadataRequest(["petition.received"]).build(MetadataRequest_v4)
    assert struct.allow_auto_topic_creation is False


# 2 -------------------------------------------------------------------------------------------
def faust_app(tmp_path: Path) -> faust.App:
    settings = CommonSettings(kafka_fetch_max_wait_ms=37)
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    outbox, processed = db.messaging_tables(MetaData())
    processor = EventProcessor(
        service="pin",
        sessions=db.sessionmaker(engine),
        processed=processed,
        outbox=outbox,
        handlers={},
        clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)),
    )
    return build_faust_app(
        service="pin", settings=settings, topics=["petition.received"], processor=processor
    )


async def test_faust_s_consumer_is_built_with_the_configured_fetch_wait(tmp_path: Path) -> None:
    # the hooks overridden in consumer.py still exist under these names
    for cls, name in [
        (faust.App, "_new_transport"),
        (faust_kafka.Consumer, "_new_consumer_thread"),
        (faust_kafka.AIOKafkaConsumerThread, "_create_worker_consumer"),
    ]:
        assert callable(getattr(cls, name, None)), f"{cls.__qualname__}.{name} is gone"
    app = faust_app(tmp_path)
    assert isinstance(app, XinfangFaustApp)
    assert isinstance(app.transport, _Transport)
    consumer = app.consumer
    assert isinstance(consumer, _Consumer)
    thread = consumer._new_consumer_thread()
    assert isinstance(thread, _ConsumerThread)
    worker = thread._create_worker_consumer(app.transport)
    assert isinstance(worker, aiokafka.AIOKafkaConsumer)
    assert worker._fetch_max_wait_ms == 37  # faust passes 1500
    # aiokafka reads the attribute when it starts (its fetcher is built from it)
    start_src = inspect.getsource(aiokafka.AIOKafkaConsumer.start)
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in start_src


# 3 -------------------------------------------------------------------------------------------
async def test_discarding_the_relay_s_producer_cancels_its_sender_task(tmp_path: Path) -> None:
    assert isinstance(inspect.getattr_static(Sender, "sender_task"), property)
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}")
    relay = OutboxRelay(
        engine=engine,
        sessions=db.sessionmaker(engine),
        outbox=db.messaging_tables(MetaData())[0],
        servers=["127.0.0.1:1"],  # nothing listens: the sender keeps waiting, never sends
    )
    producer = aiokafka.AIOKafkaProducer(bootstrap_servers=["127.0.0.1:1"])
    assert isinstance(producer._sender, Sender)
    await producer._sender.start()  # what AIOKafkaProducer.start does once connected
    task = producer._sender.sender_task
    assert isinstance(task, asyncio.Task) and not task.done()
    relay._producer = producer
    await relay._discard_producer()
    await asyncio.sleep(0)
    assert task.cancelled()
    assert relay._producer is None
    await engine.dispose()
