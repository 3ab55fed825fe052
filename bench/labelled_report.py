"""Score routing on the labelled set; prints JSON.  uv run python -m bench.labelled_report"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from tests.labelled import DATA, HOLDOUT, evaluate


def main() -> None:
    """The labelled set (the classifier's keywords were tuned on it) and the held-out set
    (written independently, never used for tuning)."""
    out = {}
    for name, path in (("labelled", DATA), ("holdout", HOLDOUT)):
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'routing.db'}"
        out[name] = asyncio.run(evaluate(url, path)).as_dict()
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
