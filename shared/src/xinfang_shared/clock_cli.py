"""``xf-clock``: move the manual clock of the whole running system (demo/test mode only).

xf-clock show
xf-clock advance 12d          # also 36h, 90m, 1d12h
xf-clock advance 12d --wait http://127.0.0.1:8003/healthz ...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.request
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from xinfang_shared.clock import decode_offset, encode_offset
from xinfang_shared.settings import CommonSettings
from xinfang_shared.topics import CLOCK_TOPIC

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text.strip())
    if not m or not any(m.groups()):
        raise argparse.ArgumentTypeError(f"not a duration like 12d, 36h, 1d12h: {text!r}")
    d, h, mins = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mins)


async def read_offset(servers: list[str]) -> timedelta:
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        tp = TopicPartition(CLOCK_TOPIC, 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        if end == 0:
            return timedelta(0)
        consumer.seek(tp, end - 1)
        batch = await consumer.getmany(tp, timeout_ms=5000)
        msgs = batch.get(tp, [])
        return (decode_offset(msgs[-1].value) if msgs else None) or timedelta(0)
    finally:
        await consumer.stop()


async def publish_offset(servers: list[str], offset: timedelta) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(CLOCK_TOPIC, encode_offset(offset), key=b"clock", partition=0)
    finally:
        await producer.stop()


def wait_for(urls: list[str], offset: timedelta, timeout: float) -> list[str]:
    """Poll each service's /healthz until it reports the offset; returns the laggards."""
    pending = list(urls)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    doc = json.loads(resp.read())
                if abs(float(doc.get("clock_offset_s", -1)) - offset.total_seconds()) < 1e-3:
                    pending.remove(url)
            except OSError:
                pass
        if pending:
            time.sleep(0.1)
    return pending


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xf-clock", description="系统时钟（演示/测试模式）")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("show", help="print the current offset")
    adv = sub.add_parser("advance", help="move the clock of every running service forward")
    adv.add_argument("duration", type=parse_duration)
    adv.add_argument("--wait", action="append", default=[], metavar="HEALTHZ_URL")
    adv.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    servers = CommonSettings().bootstrap_list

    current = asyncio.run(read_offset(servers))
    if args.cmd == "show":
        print(json.dumps({"offset_seconds": current.total_seconds(), "offset": str(current)}))
        return 0
    new = current + args.duration
    asyncio.run(publish_offset(servers, new))
    laggards = wait_for(args.wait, new, args.timeout) if args.wait else []
    print(
        json.dumps({"offset_seconds": new.total_seconds(), "offset": str(new), "lagging": laggards})
    )
    return 1 if laggards else 0


if __name__ == "__main__":
    sys.exit(main())
