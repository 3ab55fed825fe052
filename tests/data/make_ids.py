"""Helper for the labelled test data: computes and checks GB 11643 resident identity numbers.

Stand-alone script, imported by nothing.

    python tests/data/make_ids.py make 339922 19680312 041    # prints the full 18-character number
    python tests/data/make_ids.py check tests/data/labelled_petitions.yaml
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
ID_RE = re.compile(r"id_number:\s*\"?([0-9Xx]+)\"?")


def check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make_id(region: str, birth: str, seq: str) -> str:
    """region: 6 digits (3399xx); birth: YYYYMMDD; seq: 3 digits (odd last digit = male)."""
    date(int(birth[:4]), int(birth[4:6]), int(birth[6:8]))  # raises on an impossible date
    first17 = f"{region}{birth}{seq}"
    return first17 + check_char(first17)


def is_valid(number: str) -> bool:
    number = number.upper()
    if not re.fullmatch(r"3399\d{13}[\dX]", number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if not date(1900, 1, 1) <= born <= date.today():
        return False
    return check_char(number[:17]) == number[17]


def check_file(path: Path) -> int:
    numbers = ID_RE.findall(path.read_text(encoding="utf-8"))
    bad = [n for n in numbers if not is_valid(n)]
    for n in bad:
        print(f"invalid: {n}")
    print(f"{len(numbers)} id numbers checked, {len(bad)} invalid")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    if len(argv) == 4 and argv[0] == "make":
        print(make_id(argv[1], argv[2], argv[3]))
        return 0
    if len(argv) == 2 and argv[0] == "check":
        return check_file(Path(argv[1]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
