"""Score routing on the labelled set; prints JSON.  uv run python -m bench.labelled_report"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from tests.labelled import evaluate


def main() -> None:
    url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'routing.db'}"
    print(json.dumps(asyncio.run(evaluate(url)).as_dict(), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
