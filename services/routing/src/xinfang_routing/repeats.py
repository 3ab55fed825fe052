"""Repeat petitions (重复信访) and 一信多投: the same petitioner — matched on the salted hash of
the ID number, or on name + phone — with a similar matter (MinHash over character bigrams,
datasketch). Anonymous items carry no identity key and are never linked.

The index lives in memory for speed and is rebuilt from the database at start and refreshed
from it (rows written by other replicas) before use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np
from datasketch import MinHash
from xinfang_shared.events import PetitionerInfo

NUM_PERM = 64
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)
_PERMS = MinHash(num_perm=NUM_PERM, seed=7, scheme="affine32").permutations  # derived once


def shingles(text: str) -> list[bytes]:
    t = _STRIP.sub("", text)
    return list({t[i : i + 2].encode() for i in range(max(len(t) - 1, 1))})


def signature(text: str) -> np.ndarray:
    m = MinHash(num_perm=NUM_PERM, seed=7, permutations=_PERMS, scheme="affine32")
    m.update_batch(shingles(text))
    return m.hashvalues.astype(np.uint32)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / NUM_PERM


def identity_keys(petitioners: list[PetitionerInfo], salt: str) -> list[str]:
    keys: list[str] = []
    for p in petitioners:
        if p.id_hash:
            keys.append(f"id:{p.id_hash}")
        if p.name and p.phone:
            digest = hashlib.sha256(f"{salt}|{p.name.strip()}|{p.phone}".encode()).hexdigest()
            keys.append(f"np:{digest}")
    return keys


@dataclass
class Entry:
    case_id: str
    root_case_id: str
    signature: np.ndarray


@dataclass
class Match:
    root_case_id: str
    matched_case_id: str
    similarity: float


@dataclass
class RepeatIndex:
    threshold: float = 0.15
    by_key: dict[str, list[Entry]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    last_seq: int = 0
    refreshed_at: float = 0.0  # monotonic time of the last refresh from the database

    @property
    def size(self) -> int:
        return len(self.known)

    def add(self, *, case_id: str, root_case_id: str, keys: list[str], sig: np.ndarray) -> None:
        if case_id in self.known:
            return
        self.known.add(case_id)
        entry = Entry(case_id, root_case_id, sig)
        for k in keys:
            self.by_key.setdefault(k, []).append(entry)

    def invalidate(self) -> None:
        """Forget everything (after a rolled-back transaction): rebuilt from the database."""
        self.by_key.clear()
        self.known.clear()
        self.last_seq = 0
        self.refreshed_at = 0.0

    def find(self, keys: list[str], sig: np.ndarray) -> Match | None:
        best: Match | None = None
        seen: set[str] = set()
        for k in keys:
            for e in self.by_key.get(k, ()):
                if e.case_id in seen:
                    continue
                seen.add(e.case_id)
                s = similarity(sig, e.signature)
                if s >= self.threshold and (best is None or s > best.similarity):
                    best = Match(e.root_case_id, e.case_id, s)
        return best
