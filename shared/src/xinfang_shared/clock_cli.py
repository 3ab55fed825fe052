"""``xf-clock``: move the manual clock of the whole running system (demo/test mode only).

xf-clock show
xf-clock advance 12d          # also 36h, 90m, 1d12h
xf-clock advance 12d --wait http://127.0.0.1:8003/healthz ...
xf-clock advance 12d --json   # one JSON document instead of the Chinese lines (for scripts)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from xinfang_shared.clock import decode_offset, encode_offset
from xinfang_shared.settings import CommonSettings
from xinfang_shared.timeutil import SHANGHAI
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


def wait_for(urls: list[str], offset: timedelta, timeout: float) -> dict[str, dict[str, Any]]:
    """Poll each service's /healthz until it reports the offset; returns, per URL, the health
    document that confirmed it (URLs missing from the result did not confirm in time)."""
    pending = list(urls)
    confirmed: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    doc = json.loads(resp.read())
                if abs(float(doc.get("clock_offset_s", -1)) - offset.total_seconds()) < 1e-3:
                    pending.remove(url)
                    confirmed[url] = doc
            except (OSError, ValueError):
                pass
        if pending:
            time.sleep(0.1)
    return confirmed


def zh_duration(d: timedelta) -> str:
    """``12 天 3 小时 5 分钟``; zero is ``0 分钟``."""
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "天"), (hours, "小时"), (mins, "分钟")) if n]
    return " ".join(parts) or "0 分钟"


def zh_time(at: datetime) -> str:
    """Business time as a person reads it: Beijing time to the minute."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def _where(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def show_lines(offset: timedelta, wall: datetime) -> list[str]:
    return [f"当前业务时间 {zh_time(wall + offset)}，比实际时间快 {zh_duration(offset)}"]


def advance_lines(
    *,
    step: timedelta,
    offset: timedelta,
    wall: datetime,
    urls: list[str],
    confirmed: dict[str, dict[str, Any]],
    timeout: float,
) -> list[str]:
    """What ``xf-clock advance`` tells a person: the new business time and, per service asked
    to confirm (``--wait``), whether it has applied it."""
    lines = [
        f"时钟已拨快 {zh_duration(step)}：业务时间现为 {zh_time(wall + offset)}"
        f"（比实际时间快 {zh_duration(offset)}）"
    ]
    for url in urls:
        doc = confirmed.get(url)
        if doc is None:
            lines.append(
                f"  ✗ {_where(url)}  {timeout:g} 秒内未确认新时间（服务未运行或未跟随时钟）"
            )
            continue
        name = doc.get("service") or "?"
        now = doc.get("now")
        at = f"，业务时间 {zh_time(datetime.fromisoformat(now))}" if isinstance(now, str) else ""
        lines.append(f"  ✓ {name:<12} {_where(url)}  已确认{at}")
    if urls and len(confirmed) == len(urls):
        lines.append(f"全部 {len(urls)} 个服务已确认。")
    elif urls:
        lines.append(f"{len(urls) - len(confirmed)} 个服务未确认。")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="xf-clock", description="系统时钟（演示/测试模式）")
    parser.add_argument("--json", action="store_true", help="print one JSON document (scripts)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    show = sub.add_parser("show", help="当前业务时间 / print the current offset")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    adv = sub.add_parser("advance", help="拨快所有运行中服务的时钟 / move the clock forward")
    adv.add_argument("duration", type=parse_duration)
    adv.add_argument("--wait", action="append", default=[], metavar="HEALTHZ_URL")
    adv.add_argument("--timeout", type=float, default=20.0)
    adv.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    servers = CommonSettings().bootstrap_list

    current = asyncio.run(read_offset(servers))
    if args.cmd == "show":
        if args.json:
            print(json.dumps({"offset_seconds": current.total_seconds(), "offset": str(current)}))
        else:
            print("\n".join(show_lines(current, datetime.now(UTC))))
        return 0
    new = current + args.duration
    asyncio.run(publish_offset(servers, new))
    confirmed = wait_for(args.wait, new, args.timeout) if args.wait else {}
    laggards = [url for url in args.wait if url not in confirmed]
    if args.json:
        print(
            json.dumps(
                {"offset_seconds": new.total_seconds(), "offset": str(new), "lagging": laggards}
            )
        )
    else:
        lines = advance_lines(
            step=args.duration,
            offset=new,
            wall=datetime.now(UTC),
            urls=args.wait,
            confirmed=confirmed,
            timeout=args.timeout,
        )
        print("\n".join(lines))
    return 1 if laggards else 0


if __name__ == "__main__":
    sys.exit(main())
