"""Fit the repeat matcher's weights and threshold on the repeat corpus's TRAIN groups only
(never the holdout), and write data/repeat_model.json.

    uv run --frozen python -m xinfang_routing.repeat_fit [--corpus DIR] [--out FILE]

1. Every pair of texts of a train group (one petitioner) is an example: the same matter or
   not. Its features (repeats.FEATURES) come from the shipped classifier (IDF, probabilities)
   and the cues (data/repeat_cues.yaml).
2. A logistic regression (scikit-learn, C fixed beforehand) gives the weights and bias.
3. The threshold is the score that maximises F1 over the train pairs *as the service links
   them* (each arrival joins the earlier case with the best mean score at or above it;
   repeat_corpus.link), searched on a fixed grid; the lowest such score wins ties (fewer
   missed repeats at the same F1). Mean rather than best item was chosen by 5-fold
   cross-validation over the train groups (F1 0.967 against 0.946)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xinfang_routing import repeat_corpus as rc
from xinfang_routing.repeats import matching as repeats

C = 10.0
GRID = tuple(round(x, 2) for x in np.arange(-4.0, 4.0001, 0.05))
DEFAULT_OUT = Path(__file__).resolve().parent / "data" / repeats.MODEL_FILE


def unfitted_matcher(
    weights: repeats.Weights | None = None,
) -> repeats.Matcher:
    from xinfang_shared import classifier as learned

    return repeats.Matcher(
        learned.load(),
        repeats.load_cues(),
        weights or repeats.Weights(1.0, 0.0, 0.0, 0.0, 0.0, 0.5),
    )


def profiles(matcher: repeats.Matcher, texts: Sequence[rc.Text]) -> dict[str, repeats.Profile]:
    return {t.id: matcher.profile(t.content, t.title) for t in texts}


def fit(
    texts: Sequence[rc.Text],
    profs: dict[str, repeats.Profile],
    use: Sequence[str] = repeats.FEATURES,
) -> repeats.Weights:
    """Weights (features not in `use` weigh 0) and threshold from `texts` (train groups)."""
    from sklearn.linear_model import LogisticRegression

    cols = [repeats.FEATURES.index(f) for f in use]
    ps = rc.pairs(texts)
    x = np.array([repeats.features(profs[p.first.id], profs[p.second.id]) for p in ps])[:, cols]
    y = np.array([p.same for p in ps])
    lr = LogisticRegression(C=C, max_iter=2000).fit(x, y)
    coef = {f: round(float(c), 4) for f, c in zip(use, lr.coef_[0], strict=True)}
    bias = round(float(lr.intercept_[0]), 4)
    base = repeats.Weights.of(coef, bias, 0.0)
    matcher = unfitted_matcher(base)

    def score(a: rc.Text, b: rc.Text) -> float:
        return matcher.score(profs[a.id], profs[b.id])

    best = max(GRID, key=lambda t: (rc.linked_pairs(texts, rc.link(texts, score, t))["f1"], -t))
    return repeats.Weights.of(coef, bias, best)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=rc.DEFAULT_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    texts = rc.load(args.corpus)
    train = rc.split(texts, "train")
    matcher = unfitted_matcher()
    profs = profiles(matcher, train)
    w = fit(train, profs)
    fitted = unfitted_matcher(w)

    def score(a: rc.Text, b: rc.Text) -> float:
        return fitted.score(profs[a.id], profs[b.id])

    doc: dict[str, Any] = {
        "fitted_on": {
            "split": "train",
            "groups": len({t.group for t in train}),
            "texts": len(train),
            "corpus_hash": rc.corpus_hash(texts),
            "classifier_version": matcher.model.version,
        },
        "features": list(repeats.FEATURES),
        "weights": {f: getattr(w, f) for f in repeats.FEATURES},
        "bias": w.bias,
        "threshold": w.threshold,
        "train_linked": rc.linked_pairs(train, rc.link(train, score, w.threshold)),
    }
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(doc, ensure_ascii=False, indent=2), file=sys.stderr)


if __name__ == "__main__":
    main()
