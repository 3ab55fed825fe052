"""The learned classifier of petitions (issue #14), one decision shared by intake (which seals an
accusation before storing it) and routing (which places the item): character n-grams weighted
by TF-IDF and a multinomial logistic regression, trained on the routing corpus's train split by
`python -m xinfang_routing.train`.

The artifact (data/model/: model.json + weights.npz) holds the vocabulary, IDF, weights and the
thresholds chosen on cross-validation folds of the train split:
- `abstain_margin`: when the top probability exceeds the runner-up's by less than it, the
  classifier abstains (a person triages the item, shown the ranked suggestions); so does it
  when the top probability is below `abstain_below` (0 in the shipped model: off);
- `accusation_at`: when P(accusatory category) reaches it, the item is treated as an
  accusation (sealed) whatever wins: failing to seal can cost an informant their safety;
- `legal_at`: when a 诉访分离 signal (data/legal_signals.yaml) occurs and P(legal categories)
  reaches it, the item goes to the legal channel (its most probable legal category).
Inference needs only numpy; nothing is read at import time (call `load()`)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.npz"
_WHITE_SPACES = re.compile(r"\s\s+")


def default_dir() -> Path:
    return Path(str(resources.files("xinfang_shared").joinpath("data/model")))


def artifact_size(directory: Path | None = None) -> int:
    d = directory or default_dir()
    return sum((d / name).stat().st_size for name in (MODEL_FILE, WEIGHTS_FILE))


def document(content: str, title: str = "") -> str:
    """The text a model sees: the title (when any) on its own line, then the content."""
    return f"{title}\n{content}" if title else content


def char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    """Character n-grams as scikit-learn's `analyzer="char"` makes them (lowercased, runs of
    whitespace collapsed), so a model trained there scores the same here."""
    text = _WHITE_SPACES.sub(" ", text.lower())
    return [text[i : i + n] for n in range(min_n, max_n + 1) for i in range(len(text) - n + 1)]


@dataclass(frozen=True)
class Result:
    ranked: tuple[tuple[str, float], ...]  # every category, most probable first
    abstain: bool  # a person decides (shown `ranked`)
    accusation: bool  # treat as an accusation (seal), whatever category wins
    legal: bool = False  # the legal channel, by a 诉访分离 signal and the model together
    category: str | None = None  # the decision: None when abstaining


@dataclass(frozen=True)
class Model:
    version: str
    corpus_hash: str
    categories: tuple[str, ...]
    accusatory: tuple[str, ...]
    ngram_range: tuple[int, int]
    sublinear_tf: bool
    vocabulary: dict[str, int]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (features, classes)
    intercept: np.ndarray  # (classes,)
    abstain_below: float
    accusation_at: float
    legal: tuple[str, ...] = ()
    legal_signals: re.Pattern[str] | None = None
    legal_at: float = 2.0  # above any probability: off
    abstain_margin: float = 0.0  # top1 - top2 below it: abstain (0: off)

    def probabilities(self, content: str, title: str = "") -> np.ndarray:
        counts: dict[int, int] = {}
        for gram in char_ngrams(document(content, title), *self.ngram_range):
            j = self.vocabulary.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        logits = self.intercept.astype(np.float64)
        if counts:
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if self.sublinear_tf:
                tf = 1.0 + np.log(tf)
            x = tf * self.idf[idx]
            norm = math.sqrt(float(x @ x))
            if norm > 0:
                logits = logits + (x / norm) @ self.coef[idx]
        e = np.exp(logits - logits.max())
        return np.asarray(e / e.sum())

    def decide(self, probs: np.ndarray, text: str) -> Result:
        """Pure: the decision from the probabilities and the text (for the legal signals)."""
        order = np.argsort(-probs, kind="stable")
        ranked = tuple((self.categories[k], round(float(probs[k]), 4)) for k in order)
        top = ranked[0][0]
        p = {c: float(probs[k]) for k, c in enumerate(self.categories)}
        accusation = top in self.accusatory or any(
            p[c] >= self.accusation_at for c in self.accusatory
        )
        first = float(probs[order[0]])
        second = float(probs[order[1]]) if len(order) > 1 else 0.0
        abstain = first < self.abstain_below or first - second < self.abstain_margin
        category: str | None = None if abstain else top
        legal = top in self.legal and not abstain
        if (
            category not in self.legal
            and self.legal
            and self.legal_signals is not None
            and sum(p[c] for c in self.legal) >= self.legal_at
            and self.legal_signals.search(text)
        ):
            legal, abstain = True, False
            category = max(self.legal, key=lambda c: p[c])
        return Result(ranked, abstain, accusation, legal, category)

    def classify(self, content: str, title: str = "") -> Result:
        text = document(content, title)
        return self.decide(self.probabilities(content, title), text)


def read(directory: Path) -> Model:
    meta = json.loads((directory / MODEL_FILE).read_text(encoding="utf-8"))
    with np.load(directory / WEIGHTS_FILE, allow_pickle=False) as w:
        idf, coef, intercept = w["idf"], w["coef"], w["intercept"]
    vocab = {gram: i for i, gram in enumerate(meta["vocabulary"])}
    lo, hi = meta["ngram_range"]
    signals = meta.get("legal_signals") or []
    return Model(
        version=str(meta["version"]),
        corpus_hash=str(meta["corpus_hash"]),
        categories=tuple(meta["categories"]),
        accusatory=tuple(meta["accusatory"]),
        ngram_range=(int(lo), int(hi)),
        sublinear_tf=bool(meta["sublinear_tf"]),
        vocabulary=vocab,
        idf=idf.astype(np.float64),
        coef=coef.astype(np.float64),
        intercept=intercept.astype(np.float64),
        abstain_below=float(meta["thresholds"]["abstain_below"]),
        accusation_at=float(meta["thresholds"]["accusation_at"]),
        legal=tuple(meta.get("legal") or ()),
        legal_signals=re.compile("|".join(f"(?:{s})" for s in signals)) if signals else None,
        legal_at=float(meta["thresholds"].get("legal_at", 2.0)),
        abstain_margin=float(meta["thresholds"].get("abstain_margin", 0.0)),
    )


@lru_cache(maxsize=1)
def load() -> Model:
    """The shipped model, read once (call at service start, not at import)."""
    return read(default_dir())


def classify(content: str, title: str = "") -> Result:
    return load().classify(content, title)
