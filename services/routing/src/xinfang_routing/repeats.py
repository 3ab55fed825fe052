"""Repeat petitions (重复信访) and 一信多投: the same petitioner — matched on the salted hash of
the ID number, or on name + phone — about the same matter. The same matter is either the same
subject category going to the same responsible body, or a near-duplicate text (MinHash over
character bigrams, datasketch) — a petitioner who writes again rarely uses the same words, so
text alone misses most repeats (measured on the labelled set). Anonymous items carry no
identity key and are never linked.

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
    matter: tuple[str, str] | None  # (category, responsible department), None if unknown


@dataclass
class Match:
    root_case_id: str
    matched_case_id: str
    similarity: float


@dataclass
class RepeatIndex:
    threshold: float = 0.3  # MinHash similarity that makes a text a near-duplicate
    by_key: dict[str, list[Entry]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    last_seq: int = 0
    refreshed_at: float = 0.0  # monotonic time of the last refresh from the database

    @property
    def size(self) -> int:
        return len(self.known)

    def add(
        self,
        *,
        case_id: str,
        root_case_id: str,
        keys: list[str],
        sig: np.ndarray,
        matter: tuple[str, str] | None = None,
    ) -> None:
        if case_id in self.known:
            return
        self.known.add(case_id)
        entry = Entry(case_id, root_case_id, sig, matter)
        for k in keys:
            self.by_key.setdefault(k, []).append(entry)

    def invalidate(self) -> None:
        """Forget everything (after a rolled-back transaction): rebuilt from the database."""
        self.by_key.clear()
        self.known.clear()
        self.last_seq = 0
        self.refreshed_at = 0.0

    def find(
        self, keys: list[str], sig: np.ndarray, matter: tuple[str, str] | None = None
    ) -> Match | None:
        """The best earlier item of the same petitioner about the same matter, if any."""
        best: Match | None = None
        best_rank = (False, 0.0)
        seen: set[str] = set()
        for k in keys:
            for e in self.by_key.get(k, ()):
                if e.case_id in seen:
                    continue
                seen.add(e.case_id)
                s = similarity(sig, e.signature)
                same_matter = matter is not None and e.matter == matter
                if not (same_matter or s >= self.threshold):
                    continue
                rank = (same_matter, s)
                if best is None or rank > best_rank:
                    best, best_rank = Match(e.root_case_id, e.case_id, s), rank
        return best
