"""Classify a petition's subject category from its Chinese text with keyword weights kept as
data (data/classifier.yaml). No I/O after loading; ~0.1 ms per item."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True)
class Classification:
    category: str | None
    score: float
    runner_up: str | None
    runner_up_score: float


class Classifier:
    def __init__(self, weights: dict[str, dict[str, float]], *, min_score: float = 2.0) -> None:
        self.weights = weights
        self.min_score = min_score
        # One flat list: fewer Python-level loops per call.
        self._terms = [(kw, cat, w) for cat, kws in weights.items() for kw, w in kws.items()]
        self._order = {cat: i for i, cat in enumerate(weights)}

    @classmethod
    def from_doc(cls, doc: Any) -> Classifier:
        cats = {
            str(cat): {str(k): float(v) for k, v in (kws or {}).items()}
            for cat, kws in (doc.get("categories") or {}).items()
        }
        return cls(cats, min_score=float(doc.get("min_score", 2)))

    def scores(self, text: str, title: str = "") -> dict[str, float]:
        out: dict[str, float] = {}
        for kw, cat, w in self._terms:
            hits = (kw in text) + 2 * (kw in title)
            if hits:
                out[cat] = out.get(cat, 0.0) + w * min(hits, 2)
        return out

    def classify(self, text: str, title: str = "") -> Classification:
        scores = self.scores(text, title)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self._order[kv[0]]))
        if not ranked or ranked[0][1] < self.min_score:
            return Classification(None, ranked[0][1] if ranked else 0.0, None, 0.0)
        second = ranked[1] if len(ranked) > 1 else (None, 0.0)
        return Classification(ranked[0][0], ranked[0][1], second[0], second[1])


@lru_cache(maxsize=1)
def default_classifier() -> Classifier:
    text = (
        resources.files("xinfang_routing")
        .joinpath("data/classifier.yaml")
        .read_text(encoding="utf-8")
    )
    return Classifier.from_doc(yaml.safe_load(text))
