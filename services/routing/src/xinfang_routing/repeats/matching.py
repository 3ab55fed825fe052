"""Repeat petitions (重复信访) and 一信多投: the same petitioner — matched on the salted hash of
the ID number, or on name + phone — about the same matter. Anonymous items carry no identity
key and are never linked.

Whether an earlier item of the same petitioner is about the same matter is a score (issue #14
item 5), because a petitioner who writes again rarely uses the same words:
- text: cosine of the two texts' character TF-IDF vectors (the shared classifier's IDF);
- topic: cosine of the classifier's category probabilities (a rewording keeps its topic);
- follow_up / new_matter: the new text says it comes back to something (上次反映的…) or raises
  another matter (另外反映…); after a new-matter cue only what follows is compared;
combined linearly with weights fitted on the repeat corpus's train groups
(`python -m xinfang_routing.repeat_fit`, data/repeat_model.json; cues in data/repeat_cues.yaml).
A case scores the mean of its items' scores; the best case at or above the threshold is the
match. A MinHash signature
over character bigrams (datasketch) is still kept: it tells 一信多投 (the same letter sent to
several offices) and matches rows stored before profiles existed.

The index lives in memory for speed and is rebuilt from the database at start and refreshed
from it (rows written by other replicas) before use.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import yaml
from datasketch import MinHash
from xinfang_shared import classifier as learned
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


# -- the matter score ----------------------------------------------------------------------

FEATURES = ("text", "topic", "follow_up", "new_matter")


@dataclass(frozen=True)
class Profile:
    """What is kept of a text to match later items against: its characters' TF-IDF weights
    (sorted code points, L2-normalised weights) and its category probabilities; and the cues
    its own wording carries (used when it is the new item)."""

    chars: np.ndarray  # uint32 code points, sorted, unique
    weights: np.ndarray  # float32, same length, L2 norm 1
    topic: np.ndarray  # float32 probabilities in the matcher's category order
    follow_up: bool = False
    new_matter: bool = False


@dataclass(frozen=True)
class Cues:
    follow_up: re.Pattern[str]
    new_matter: re.Pattern[str]
    focus_min_chars: int = 15

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Cues:
        def union(key: str) -> re.Pattern[str]:
            return re.compile("|".join(f"(?:{c})" for c in doc.get(key) or ()) or "(?!)")

        return cls(union("follow_up"), union("new_matter"), int(doc.get("focus_min_chars", 15)))

    def focus(self, text: str) -> str:
        """The part of the text about its own matter: what follows the last new-matter cue
        (when long enough), else the whole text."""
        ends = [m.end() for m in self.new_matter.finditer(text)]
        if not ends:
            return text
        rest = text[ends[-1] :].lstrip("：:，, 的")
        return rest if len(rest) >= self.focus_min_chars else text


@dataclass(frozen=True)
class Weights:
    """A linear score over FEATURES; an earlier item is the same matter at or above
    `threshold`. Fitted on the repeat corpus's train groups (repeat_fit)."""

    text: float
    topic: float
    follow_up: float
    new_matter: float
    bias: float
    threshold: float

    @classmethod
    def of(cls, by_feature: Mapping[str, float], bias: float, threshold: float) -> Weights:
        """From a weight per feature name (a feature left out weighs 0)."""
        w = {f: float(by_feature.get(f, 0.0)) for f in FEATURES}
        return cls(w["text"], w["topic"], w["follow_up"], w["new_matter"], bias, threshold)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Weights:
        return cls.of(doc["weights"], float(doc["bias"]), float(doc["threshold"]))


def cosine(a: Profile, b: Profile) -> float:
    """Cosine of two texts' character TF-IDF vectors (both L2-normalised)."""
    _, ia, ib = np.intersect1d(a.chars, b.chars, assume_unique=True, return_indices=True)
    return float(a.weights[ia].astype(np.float64) @ b.weights[ib].astype(np.float64))


def topic_cosine(a: Profile, b: Profile) -> float:
    if a.topic.shape != b.topic.shape:
        return 0.0
    na, nb = float(np.linalg.norm(a.topic)), float(np.linalg.norm(b.topic))
    return float(a.topic @ b.topic) / (na * nb) if na and nb else 0.0


def features(earlier: Profile, new: Profile) -> tuple[float, float, float, float]:
    """The score's inputs, in FEATURES order: cues come from the new item's wording."""
    return (
        cosine(earlier, new),
        topic_cosine(earlier, new),
        float(new.follow_up),
        float(new.new_matter),
    )


@dataclass(frozen=True)
class Matcher:
    """Turns a text into a Profile (with the shared classifier's IDF and probabilities) and
    scores an earlier item against a new one."""

    model: learned.Model
    cues: Cues
    weights: Weights

    @property
    def categories(self) -> tuple[str, ...]:
        return self.model.categories

    def profile(self, content: str, title: str = "") -> Profile:
        own = self.cues.focus(content)
        counts: dict[str, int] = {}
        for ch in learned.char_ngrams(learned.document(own, title), 1, 1):
            if not ch.isspace():
                counts[ch] = counts.get(ch, 0) + 1
        vocab, idf = self.model.vocabulary, self.model.idf
        pairs = []
        for ch, n in counts.items():
            j = vocab.get(ch)
            if j is not None:  # characters the corpus never saw carry no weight
                pairs.append((ord(ch), (1.0 + math.log(n)) * float(idf[j])))
        pairs.sort()
        chars = np.fromiter((c for c, _ in pairs), dtype=np.uint32, count=len(pairs))
        w = np.fromiter((v for _, v in pairs), dtype=np.float64, count=len(pairs))
        norm = float(np.linalg.norm(w))
        topic = np.round(self.model.probabilities(own, title), 4)
        return Profile(
            chars=chars,
            # as stored (float16; probabilities to 4 places): a rebuilt index scores the same
            weights=(w / norm if norm else w).astype(np.float16).astype(np.float32),
            topic=np.where(topic >= 1e-4, topic, 0.0).astype(np.float32),
            follow_up=bool(self.cues.follow_up.search(content)),
            new_matter=bool(self.cues.new_matter.search(content)),
        )

    def score(self, earlier: Profile, new: Profile) -> float:
        w = self.weights
        text, topic, follow_up, new_matter = features(earlier, new)
        return (
            w.text * text
            + w.topic * topic
            + w.follow_up * follow_up
            + w.new_matter * new_matter
            + w.bias
        )

    # -- storage: a profile as database columns (model-independent: characters and names) --

    def encode(self, p: Profile) -> dict[str, Any]:
        """`terms`: the code points (uint32) then the weights (float16); `topic`: the
        probabilities by category name, so a retrained model still reads them."""
        return {
            "terms": p.chars.astype("<u4").tobytes() + p.weights.astype("<f2").tobytes(),
            "topic": {
                c: round(float(v), 4)
                for c, v in zip(self.categories, p.topic, strict=True)
                if v >= 1e-4
            },
        }

    def decode(self, terms: bytes | None, topic: Mapping[str, float] | None) -> Profile | None:
        if terms is None or topic is None:
            return None  # a row stored before profiles existed: MinHash only
        n = len(terms) // 6
        chars = np.frombuffer(terms[: 4 * n], dtype="<u4").astype(np.uint32)
        weights = np.frombuffer(terms[4 * n : 6 * n], dtype="<f2").astype(np.float32)
        vec = np.array([float(topic.get(c, 0.0)) for c in self.categories], dtype=np.float32)
        return Profile(chars=chars, weights=weights, topic=vec)


def _data(name: str) -> str:
    return resources.files("xinfang_routing").joinpath(f"data/{name}").read_text(encoding="utf-8")


MODEL_FILE = "repeat_model.json"


def load_cues() -> Cues:
    return Cues.from_doc(yaml.safe_load(_data("repeat_cues.yaml")))


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The shipped matcher: the shared classifier, the cues and the fitted weights (read once,
    at service start, never at import)."""
    fitted = json.loads(_data(MODEL_FILE))
    return Matcher(learned.load(), load_cues(), Weights.from_doc(fitted))


# -- the index -----------------------------------------------------------------------------


@dataclass
class Entry:
    case_id: str
    root_case_id: str
    signature: np.ndarray
    matter: tuple[str, str] | None  # (category, responsible department), None if unknown
    profile: Profile | None = None  # None: a row stored before profiles existed


@dataclass
class Match:
    root_case_id: str
    matched_case_id: str
    similarity: float  # MinHash: how nearly the same letter (一信多投)
    score: float  # the matter score (the MinHash similarity for a row without profile)
    by: str = "profile"  # profile | minhash (a row stored before profiles existed)


@dataclass
class RepeatIndex:
    threshold: float = 0.3  # MinHash similarity that links a row stored without a profile
    matcher: Matcher = field(default_factory=default_matcher)
    by_key: dict[str, list[Entry]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    last_seq: int = 0
    refreshed_at: float = 0.0  # monotonic time of the last refresh from the database

    @property
    def size(self) -> int:
        return len(self.known)

    def profile(self, content: str, title: str = "") -> Profile:
        return self.matcher.profile(content, title)

    def add(
        self,
        *,
        case_id: str,
        root_case_id: str,
        keys: list[str],
        sig: np.ndarray,
        matter: tuple[str, str] | None = None,
        profile: Profile | None = None,
    ) -> None:
        if case_id in self.known:
            return
        self.known.add(case_id)
        entry = Entry(case_id, root_case_id, sig, matter, profile)
        for k in keys:
            self.by_key.setdefault(k, []).append(entry)

    def invalidate(self) -> None:
        """Forget everything (after a rolled-back transaction): rebuilt from the database."""
        self.by_key.clear()
        self.known.clear()
        self.last_seq = 0
        self.refreshed_at = 0.0

    def find(
        self, keys: list[str], sig: np.ndarray, profile: Profile | None = None
    ) -> Match | None:
        """The earlier case of the same petitioner that is the same matter, if any: a case
        scores the mean of its items' matter scores against the new one (it must resemble the
        case as a whole: one loose link does not chain another matter in), and the best case
        at or above the threshold wins. Rows stored without a profile match by MinHash alone,
        below any scored case."""
        scored: dict[str, list[tuple[float, float, str]]] = {}  # root -> (score, minhash, case)
        legacy: Match | None = None
        seen: set[str] = set()
        for k in keys:
            for e in self.by_key.get(k, ()):
                if e.case_id in seen:
                    continue
                seen.add(e.case_id)
                s = similarity(sig, e.signature)
                if profile is not None and e.profile is not None:
                    score = self.matcher.score(e.profile, profile)
                    scored.setdefault(e.root_case_id, []).append((score, s, e.case_id))
                elif s >= self.threshold and (legacy is None or s > legacy.score):
                    legacy = Match(e.root_case_id, e.case_id, s, s, "minhash")
        best: Match | None = None
        for root, items in scored.items():
            mean = sum(i[0] for i in items) / len(items)
            if mean >= self.matcher.weights.threshold and (best is None or mean > best.score):
                top = max(items)  # the item of the case nearest the new text
                best = Match(root, top[2], max(i[1] for i in items), mean, "profile")
        return best or legacy
