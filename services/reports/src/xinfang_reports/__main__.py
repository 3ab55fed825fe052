"""``xinfang-reports`` serves the API (and keeps the read model from the events);
``xinfang-reports rebuild [--batch N]`` empties the read model and builds it again from the
topics (:mod:`xinfang_reports.rebuild`), printing a JSON summary."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging

from xinfang_shared.serve import serve

from xinfang_reports import rebuild
from xinfang_reports.config import ReportsSettings
from xinfang_reports.main import create_app


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError("must be at least 1 / 至少为 1")
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xinfang-reports", description="信访统计 reports service")
    commands = p.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API and keep the read model (the default)")
    again = commands.add_parser(
        "rebuild", help="empty the read model and build it again from the topics (重建统计库)"
    )
    again.add_argument(
        "--batch",
        type=_positive,
        default=rebuild.DEFAULT_BATCH,
        help=f"events per write (default {rebuild.DEFAULT_BATCH})",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    settings = ReportsSettings()
    if args.command == "rebuild":
        # warnings to stderr: stdout carries the summary alone
        logging.basicConfig(level=logging.WARNING)
        logging.getLogger("aiokafka").setLevel(logging.ERROR)
        summary = asyncio.run(rebuild.rebuild(settings, batch=args.batch))
        print(json.dumps(summary.as_dict(), ensure_ascii=False), flush=True)
        return
    serve(
        create_app(settings),
        service="reports",
        host=settings.http_host,
        port=settings.port,
        log_level=settings.log_level,
    )


if __name__ == "__main__":
    main()
