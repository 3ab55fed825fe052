"""A local mail server for the demo (``make run``): accepts every message notify sends and saves
it as an .eml file, so e-mail delivery can be seen without a real mail system.

    python -m deploy.mailsink --port 1025 --dir var/mail
"""

from __future__ import annotations

import argparse
import email
import email.policy
import signal
import threading
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        path = self.folder / f"{self.count:05d}.eml"
        path.write_bytes(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        print(f"mail → {', '.join(envelope.rcpt_tos)}: {msg['Subject']}  ({path})", flush=True)
        return "250 OK"


def start(port: int, folder: Path) -> Controller:
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(SaveToFolder(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="demo mail sink: saves every message as .eml")
    p.add_argument("--port", type=int, default=1025)
    p.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = p.parse_args(argv)
    controller = start(args.port, args.dir)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
