"""Build the learned classifier's artifact from the corpus's TRAIN split (never the holdout).

    uv run --frozen python -m xinfang_routing.train [--corpus DIR] [--out DIR]

1. Out-of-fold probabilities by 5-fold stratified cross-validation on the train split, for
   each regularisation strength C tried; the C with the best out-of-fold accuracy wins.
2. Thresholds on those out-of-fold probabilities: `abstain_below`, the value that maximises
   accuracy on the items answered while abstaining on at most ABSTENTION_BUDGET of them; and
   `accusation_at`, the lowest P(accusatory) of any accusation (so validation accusation
   recall is 100 %), times ACCUSATION_MARGIN (fixed beforehand, never tuned on the holdout);
   `legal_at`, the lowest P(legal categories) that, with a 诉访分离 signal in the text
   (data/legal_signals.yaml), sends to the legal channel at most LEGAL_FALSE_BUDGET of the
   non-legal items.
3. The final model is fitted on the whole train split and written as plain JSON + npz, with
   the corpus hash and version; the numpy inference path is checked against scikit-learn."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from xinfang_shared import classifier as learned

from xinfang_routing import corpus
from xinfang_routing.rules import default_rules

MODEL_VERSION = "char-tfidf-logreg-1"
NGRAM_RANGE = (1, 3)
MIN_DF = 2
MAX_FEATURES = 30000
C_GRID = (5.0, 20.0, 50.0)
FOLDS = 5
ABSTENTION_BUDGET = 0.15
ACCUSATION_MARGIN = 0.8
LEGAL_FALSE_BUDGET = 0.01
SEED = 0


def _pipeline(c: float) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(
            analyzer="char",
            ngram_range=NGRAM_RANGE,
            min_df=MIN_DF,
            max_features=MAX_FEATURES,
            sublinear_tf=True,
            dtype=np.float64,
        ),
        LogisticRegression(C=c, max_iter=3000),
    )


def abstention_threshold(
    top: np.ndarray, correct: np.ndarray, budget: float = ABSTENTION_BUDGET
) -> float:
    """The threshold on the top probability that maximises accuracy on the items answered,
    abstaining (top < threshold) on at most `budget` of them. Pure."""
    best_t, best_acc = 0.0, -1.0
    for t in np.unique(top):
        answered = top >= t
        if 1.0 - answered.mean() > budget + 1e-12:
            break
        acc = float(correct[answered].mean()) if answered.any() else 0.0
        if acc > best_acc + 1e-12:
            best_t, best_acc = float(t), acc
    return best_t


def accusation_threshold(p_accusatory: np.ndarray, is_accusation: np.ndarray) -> float:
    """The lowest P(accusatory) of any true accusation, with the fixed safety margin. Pure."""
    return float(p_accusatory[is_accusation].min()) * ACCUSATION_MARGIN


def legal_threshold(
    p_legal: np.ndarray,
    signal: np.ndarray,
    already_legal: np.ndarray,
    is_legal: np.ndarray,
    budget: float = LEGAL_FALSE_BUDGET,
) -> float:
    """The lowest P(legal) at which a signalled item not already sent to the legal channel is
    sent there, wrongly for at most `budget` of the non-legal items. Pure; 2.0 means off."""
    candidates = np.unique(p_legal[signal & ~already_legal])
    non_legal = max(1, int((~is_legal).sum()))
    for t in candidates:  # ascending: false sends only fall as t rises
        wrong = signal & ~already_legal & (p_legal >= t) & ~is_legal
        if wrong.sum() / non_legal <= budget:
            return float(t)
    return 2.0


def legal_signals() -> list[str]:
    text = (
        resources.files("xinfang_shared")
        .joinpath("data/legal_signals.yaml")
        .read_text(encoding="utf-8")
    )
    return [str(p) for p in yaml.safe_load(text)["patterns"]]


def build(items: Sequence[corpus.Item], out: Path) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rules = default_rules()
    accusatory = sorted(
        c for c, r in rules.categories.items() if r.channel == "discipline" or r.confidential
    )
    train = corpus.split(items, "train")
    texts = [learned.document(i.content, i.title) for i in train]
    labels = np.array([i.category for i in train])
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)

    best: tuple[float, float, np.ndarray] | None = None
    for c in C_GRID:
        oof = cross_val_predict(_pipeline(c), texts, labels, cv=folds, method="predict_proba")
        classes = np.array(sorted(set(labels)))
        acc = float((classes[oof.argmax(1)] == labels).mean())
        print(f"C={c}: out-of-fold accuracy {acc:.4f}", file=sys.stderr)
        if best is None or acc > best[1]:
            best = (c, acc, oof)
    assert best is not None
    c, oof_acc, oof = best
    classes = np.array(sorted(set(labels)))
    correct = classes[oof.argmax(1)] == labels
    abstain_below = abstention_threshold(oof.max(1), correct)
    acc_cols = [list(classes).index(a) for a in accusatory]
    p_acc = oof[:, acc_cols].max(1)
    accusation_at = accusation_threshold(p_acc, np.isin(labels, accusatory))

    legal = sorted(c for c, r in rules.categories.items() if r.channel == "legal")
    signals = legal_signals()
    pattern = re.compile("|".join(f"(?:{s})" for s in signals))
    legal_cols = [list(classes).index(x) for x in legal]
    p_legal = oof[:, legal_cols].sum(1)
    answered = oof.max(1) >= abstain_below
    already = answered & np.isin(classes[oof.argmax(1)], legal)
    has_signal = np.array([bool(pattern.search(t)) for t in texts])
    legal_at = legal_threshold(p_legal, has_signal, already, np.isin(labels, legal))

    pipe = _pipeline(c).fit(texts, labels)
    vec, lr = pipe[0], pipe[-1]
    vocab = [""] * len(vec.vocabulary_)
    for gram, j in vec.vocabulary_.items():
        vocab[j] = gram
    h = corpus.corpus_hash(items)
    meta = {
        "version": f"{MODEL_VERSION}+{h[:12]}",
        "corpus_hash": h,
        "trained_on": {"split": "train", "items": len(train)},
        "model": {"C": c, "folds": FOLDS, "out_of_fold_accuracy": round(oof_acc, 4)},
        "categories": [str(x) for x in lr.classes_],
        "accusatory": accusatory,
        "legal": legal,
        "legal_signals": signals,
        "ngram_range": list(NGRAM_RANGE),
        "sublinear_tf": True,
        "thresholds": {
            "abstain_below": round(abstain_below, 6),
            "accusation_at": round(accusation_at, 6),
            "abstention_budget": ABSTENTION_BUDGET,
            "accusation_margin": ACCUSATION_MARGIN,
            "legal_at": round(legal_at, 6),
            "legal_false_budget": LEGAL_FALSE_BUDGET,
        },
        "vocabulary": vocab,
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / learned.MODEL_FILE).write_text(
        json.dumps(meta, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    np.savez_compressed(
        out / learned.WEIGHTS_FILE,
        idf=vec.idf_.astype(np.float32),
        coef=lr.coef_.T.astype(np.float32),
        intercept=lr.intercept_.astype(np.float32),
    )
    # The numpy path must score as scikit-learn does (float32 weights: small drift only).
    model = learned.read(out)
    sample = texts[:: max(1, len(texts) // 50)]
    ours = np.array([model.probabilities(t) for t in sample])
    drift = float(np.abs(ours - pipe.predict_proba(sample)).max())
    if drift > 1e-3:
        raise RuntimeError(f"numpy inference drifts from scikit-learn by {drift}")
    summary = {k: v for k, v in meta.items() if k != "vocabulary"}
    summary["features"] = len(vocab)
    summary["artifact_bytes"] = learned.artifact_size(out)
    summary["validation"] = {
        "abstention": round(float((oof.max(1) < abstain_below).mean()), 4),
        "answered_accuracy": round(float(correct[oof.max(1) >= abstain_below].mean()), 4),
        "false_accusation": round(
            float((p_acc[~np.isin(labels, accusatory)] >= accusation_at).mean()), 4
        ),
        "legal_recall": round(
            float((already | (has_signal & (p_legal >= legal_at)))[np.isin(labels, legal)].mean()),
            4,
        ),
    }
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="build the learned routing classifier")
    parser.add_argument("--corpus", type=Path, default=corpus.DEFAULT_DIR)
    parser.add_argument("--out", type=Path, default=learned.default_dir())
    args = parser.parse_args(argv)
    summary = build(corpus.load(args.corpus), args.out)
    print(json.dumps(summary, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
