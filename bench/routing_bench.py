"""Routing benchmark: prints JSON.

1. The decision itself (classify + resolve territory + rules + repeat check: the text's matter
   profile and its score against the petitioner's earlier items) with 100,000 prior cases in
   the repeat index: median and p99 per item.
2. Throughput of one routing worker (the real service process) on the real broker: N
   petition.received events are waiting on the topic; the time from the first to the last
   case routed.

    uv run python -m bench.routing_bench [--prior 100000] [--events 20000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from xinfang_routing.cases.decision import decide
from xinfang_routing.repeats.matching import RepeatIndex, identity_keys, signature
from xinfang_routing.rules import default_rules
from xinfang_shared import classifier as learned
from xinfang_shared import org
from xinfang_shared.events import new_event

from bench.petitions import make
from deploy import broker as launcher
from tests.conftest import free_port


def decision_latency(prior: int, samples: int) -> dict[str, float]:
    rng = random.Random(1)
    tree, rules, model = org.default_tree(), default_rules(), learned.load()
    index = RepeatIndex()
    for i in range(prior):
        p = make(rng)
        index.add(
            case_id=p.case_id,
            root_case_id=p.case_id,
            keys=identity_keys(p.petitioners, "s"),
            sig=signature(p.content),
            profile=index.profile(p.content, p.title or ""),
        )
        if i % 20000 == 0:
            print(f"indexed {i}", file=sys.stderr)
    timings = []
    for _ in range(samples):
        p = make(rng)
        t = time.perf_counter()
        # what the service does for every item: decide, then look for the same matter
        keys = identity_keys(p.petitioners, "s")
        sig = signature(f"{p.title or ''}{p.content}")
        decide(p, tree=tree, rules=rules, model=model)
        index.find(keys, sig, index.profile(p.content, p.title or ""))
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return {
        "prior_cases_in_index": prior,
        "samples": samples,
        "median_ms": round(statistics.median(timings), 4),
        "p99_ms": round(timings[int(len(timings) * 0.99)], 4),
    }


def corpus_decision_latency() -> dict[str, float]:
    """The decision alone (classifier, placement rules, chain) on every routing-corpus text:
    petitions as people write them, up to a few hundred characters, as letters to a county
    about one of its villages."""
    from xinfang_routing import corpus

    from bench.labelled_report import _letter

    tree, rules, model = org.default_tree(), default_rules(), learned.load()
    letters = [_letter(item, None) for item in corpus.load()]
    timings = []
    for p in letters:
        t = time.perf_counter()
        decide(p, tree=tree, rules=rules, model=model)
        timings.append((time.perf_counter() - t) * 1000)
    timings.sort()
    return {
        "samples": len(timings),
        "median_ms": round(statistics.median(timings), 4),
        "p99_ms": round(timings[int(len(timings) * 0.99)], 4),
        "max_ms": round(timings[-1], 4),
    }


async def _produce(servers: str, n: int) -> None:
    rng = random.Random(2)
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = []
        for _ in range(n):
            p = make(rng)
            env = new_event(data=p, source="/bench", time=p.received_at)
            futures.append(await producer.send("petition.received", env.to_bytes(), key=env.key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def _count_routed(servers: str, n: int, timeout: float) -> tuple[float, float, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        parts = [
            TopicPartition(t, p)
            for t in ("case.routed", "case.linked")
            for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        seen: set[bytes] = set()
        first = last = 0.0
        deadline = time.monotonic() + timeout
        while len(seen) < n and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for msgs in batch.values():
                for m in msgs:
                    if m.value is not None and m.key not in seen:
                        seen.add(m.key)
                        now = time.monotonic()
                        first = first or now
                        last = now
        return first, last, len(seen)
    finally:
        await consumer.stop()


def _handled_rate(port: int, events: int, timeout: float = 600) -> float | None:
    """Poll the worker's /readyz: events handled per second from the first to the last."""
    url = f"http://127.0.0.1:{port}/readyz"
    first_t = last_t = None
    first_n = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                n = int(json.loads(r.read()).get("events_handled", 0))
        except Exception:
            n = 0
        now = time.monotonic()
        if n and first_t is None:
            first_t, first_n = now, n
        if n >= events:
            last_t = now
            break
        time.sleep(0.1)
    if first_t is None or last_t is None or last_t == first_t:
        return None
    return round((events - first_n) / (last_t - first_t), 1)


def worker_throughput(events: int, database_url: str | None) -> dict[str, object]:
    port = free_port()
    servers = f"127.0.0.1:{port}"
    proc = launcher.launch(port, 6)
    tmp = Path(tempfile.mkdtemp())
    url = database_url or f"sqlite+aiosqlite:///{tmp / 'routing.db'}"
    try:
        asyncio.run(_produce(servers, events))
        http_port = free_port()
        env = {
            **os.environ,
            "XF_KAFKA_BOOTSTRAP_SERVERS": servers,
            "XF_ROUTING_DATABASE_URL": url,
            "XF_ROUTING_PORT": str(http_port),
            "XF_KAFKA_SESSION_TIMEOUT_S": "2",
            "XF_LOG_LEVEL": "WARNING",
        }
        log = open(tmp / "routing.log", "wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "xinfang_routing"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            handled_rate = _handled_rate(http_port, events)
            _first, _last, n = asyncio.run(_count_routed(servers, events, timeout=600))
        finally:
            worker.terminate()
            worker.wait(30)
        return {
            "events": events,
            "database": url.split(":", 1)[0],
            # events consumed and committed per second by the worker (decision, database,
            # outbox; its relay publishing meanwhile), read from its /readyz while it works
            "items_per_s": handled_rate,
            # then every item's case.routed / case.linked was read back from the broker
            "routed_or_linked_on_broker": n,
        }
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prior", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=5_000)
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    result: dict[str, object] = {
        "decision": decision_latency(args.prior, args.samples),
        "decision_on_corpus_texts": corpus_decision_latency(),
    }
    if not args.skip_throughput:
        result["worker"] = worker_throughput(args.events, args.database_url)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
