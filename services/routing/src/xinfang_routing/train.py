"""Build the learned classifier's artifact from the corpus's TRAIN split (never the holdout).

    uv run --frozen python -m xinfang_routing.train [--corpus DIR] [--out DIR]

1. Out-of-fold probabilities by 5-fold stratified cross-validation on the train split, for
   each regularisation strength C tried; the C whose whole decision (below) is most accurate on
   the items it answers, out of fold, wins.
2. Thresholds on those out-of-fold probabilities: `abstain_margin`, the margin between the two
   most probable categories below which the classifier abstains, the value that maximises
   accuracy on the items answered while abstaining on at most ABSTENTION_BUDGET of them (on
   cross-validation the margin ranks right and wrong answers better than the top probability
   alone: at 85 % answered, 0.962 against 0.955 right); `abstain_below` (the top probability)
   stays at 0, off; `accusation_at`, on the accusation detector (accusation vs not, a binary
   logistic regression with balanced classes on the same features, its C from
   ACCUSATION_C_GRID by the fewest false seals out of fold): the lowest out-of-fold
   P(accusation) of any accusation (so validation accusation recall is 100 %), times
   ACCUSATION_MARGIN (fixed beforehand, never tuned on the holdout). On P(cadre_report) of the
   multiclass model the same rule sealed half the non-accusations; the detector, 8–13 % (out of fold);
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

MODEL_VERSION = "char-tfidf-logreg-3"
NGRAM_RANGE = (1, 3)
MIN_DF = 2
MAX_FEATURES = 30000
C_GRID = (20.0, 50.0, 100.0)
FOLDS = 5
# A point under the 15 %, fixed beforehand, so that sampling on a held-out set of a few
# hundred items keeps the abstention within the bound.
ABSTENTION_BUDGET = 0.14
ACCUSATION_MARGIN = 0.8
# the accusation detector: accusation vs not, classes balanced; C by the fewest false seals
ACCUSATION_C_GRID = (10.0, 30.0, 100.0)
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


def _detector(c: float) -> Any:
    """The accusation detector: the same features, a binary balanced logistic regression."""
    from sklearn.linear_model import LogisticRegression

    pipe = _pipeline(c)
    pipe.steps[-1] = (
        pipe.steps[-1][0],
        LogisticRegression(C=c, max_iter=3000, class_weight="balanced"),
    )
    return pipe


def false_seals(p_accusation: np.ndarray, is_accusation: np.ndarray) -> float:
    """The share of non-accusations sealed at the threshold that seals every accusation. Pure."""
    t = accusation_threshold(p_accusation, is_accusation)
    return float((p_accusation[~is_accusation] >= t).mean())


def abstention_threshold(
    top: np.ndarray, correct: np.ndarray, budget: float = ABSTENTION_BUDGET
) -> float:
    """The threshold on a confidence score (the top probability, or the margin between the two
    most probable categories) that maximises accuracy on the items answered, abstaining
    (score < threshold) on at most `budget` of them. Pure."""
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


def margins(probs: np.ndarray) -> np.ndarray:
    """Per row, the top probability less the runner-up's. Pure."""
    s = np.sort(probs, axis=1)
    return np.asarray(s[:, -1] - s[:, -2])


def _signal_pattern(signals: Sequence[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{s})" for s in signals))


def thresholds(
    oof: np.ndarray,
    labels: np.ndarray,
    classes: np.ndarray,
    has_signal: np.ndarray,
    accusatory: Sequence[str],
    legal: Sequence[str],
    p_detector: np.ndarray | None = None,
) -> dict[str, float]:
    """Every threshold of the decision, from out-of-fold probabilities (and the accusation
    detector's, when there is one). Pure."""
    top = classes[oof.argmax(1)]
    margin = margins(oof)
    abstain_margin = abstention_threshold(margin, top == labels)
    cols = list(classes)
    p_acc = oof[:, [cols.index(a) for a in accusatory]].max(1) if p_detector is None else p_detector
    accusation_at = accusation_threshold(p_acc, np.isin(labels, accusatory))
    p_legal = oof[:, [cols.index(x) for x in legal]].sum(1)
    already = (margin >= abstain_margin) & np.isin(top, legal)
    legal_at = legal_threshold(p_legal, has_signal, already, np.isin(labels, legal))
    return {
        "abstain_below": 0.0,
        "abstain_margin": abstain_margin,
        "accusation_at": accusation_at,
        "legal_at": legal_at,
    }


def decisions(
    oof: np.ndarray,
    texts: Sequence[str],
    classes: np.ndarray,
    accusatory: Sequence[str],
    legal: Sequence[str],
    signals: re.Pattern[str],
    chosen: dict[str, float],
    p_detector: np.ndarray | None = None,
) -> list[learned.Result]:
    """The shipped decision rule (learned.Model.decide) applied to out-of-fold probabilities."""
    model = learned.Model(
        version="validation",
        corpus_hash="",
        categories=tuple(str(c) for c in classes),
        accusatory=tuple(accusatory),
        ngram_range=NGRAM_RANGE,
        sublinear_tf=True,
        vocabulary={},
        idf=np.zeros(0),
        coef=np.zeros((0, len(classes))),
        intercept=np.zeros(len(classes)),
        abstain_below=chosen["abstain_below"],
        abstain_margin=chosen["abstain_margin"],
        accusation_at=chosen["accusation_at"],
        legal=tuple(legal),
        legal_signals=signals,
        legal_at=chosen["legal_at"],
    )
    if p_detector is None:
        return [model.decide(p, t) for p, t in zip(oof, texts, strict=True)]
    return [model.decide(p, t, float(a)) for p, t, a in zip(oof, texts, p_detector, strict=True)]


def build(items: Sequence[corpus.Item], out: Path) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rules = default_rules()
    channels = {code: r.channel for code, r in rules.categories.items()}
    accusatory = sorted(
        c for c, r in rules.categories.items() if r.channel == "discipline" or r.confidential
    )
    legal = sorted(c for c, r in rules.categories.items() if r.channel == "legal")
    signals = legal_signals()
    pattern = _signal_pattern(signals)
    train = corpus.split(items, "train")
    texts = [learned.document(i.content, i.title) for i in train]
    labels = np.array([i.category for i in train])
    classes = np.array(sorted(set(labels)))
    has_signal = np.array([bool(pattern.search(t)) for t in texts])
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)

    is_acc = np.isin(labels, accusatory)
    detector: tuple[float, float, np.ndarray] | None = None
    for c in ACCUSATION_C_GRID:
        p_det = cross_val_predict(_detector(c), texts, is_acc, cv=folds, method="predict_proba")
        fs = false_seals(p_det[:, 1], is_acc)
        print(f"detector C={c}: out of fold false seals {fs:.4f}", file=sys.stderr)
        if detector is None or fs < detector[1]:
            detector = (c, fs, p_det[:, 1])
    assert detector is not None
    det_c, det_false, p_detector = detector

    best: tuple[float, dict[str, Any], dict[str, float]] | None = None
    for c in C_GRID:
        oof = cross_val_predict(_pipeline(c), texts, labels, cv=folds, method="predict_proba")
        chosen = thresholds(oof, labels, classes, has_signal, accusatory, legal, p_detector)
        results = decisions(oof, texts, classes, accusatory, legal, pattern, chosen, p_detector)
        preds = [
            corpus.Prediction(str(t), r.category, r.accusation)
            for t, r in zip(labels, results, strict=True)
        ]
        scores = corpus.report(preds, channels=channels, accusatory=accusatory)
        scores = {k: v for k, v in scores.items() if k not in ("per_category", "confusion_pairs")}
        scores["top1_accuracy"] = round(float((classes[oof.argmax(1)] == labels).mean()), 4)
        print(f"C={c}: out of fold {json.dumps(scores)}", file=sys.stderr)
        key = (scores["answered_accuracy"], scores["accuracy"])
        if best is None or key > (best[1]["answered_accuracy"], best[1]["accuracy"]):
            best = (c, scores, chosen)
    assert best is not None
    c, validation, chosen = best

    pipe = _pipeline(c).fit(texts, labels)
    vec, lr = pipe[0], pipe[-1]
    det = _detector(det_c).fit(texts, is_acc)
    if det[0].vocabulary_ != vec.vocabulary_:
        raise RuntimeError("the accusation detector must share the classifier's features")
    vocab = [""] * len(vec.vocabulary_)
    for gram, j in vec.vocabulary_.items():
        vocab[j] = gram
    h = corpus.corpus_hash(items)
    meta = {
        "version": f"{MODEL_VERSION}+{h[:12]}",
        "corpus_hash": h,
        "trained_on": {"split": "train", "items": len(train)},
        "model": {"C": c, "folds": FOLDS, "out_of_fold_accuracy": validation["top1_accuracy"]},
        "accusation_detector": {"C": det_c, "out_of_fold_false_seals": round(det_false, 4)},
        "categories": [str(x) for x in lr.classes_],
        "accusatory": accusatory,
        "legal": legal,
        "legal_signals": signals,
        "ngram_range": list(NGRAM_RANGE),
        "sublinear_tf": True,
        "thresholds": {
            **{k: round(v, 6) for k, v in chosen.items()},
            "abstention_budget": ABSTENTION_BUDGET,
            "accusation_margin": ACCUSATION_MARGIN,
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
        accusation_coef=det[-1].coef_[0].astype(np.float32),
        accusation_intercept=det[-1].intercept_.astype(np.float32),
    )
    # The numpy path must score as scikit-learn does (float32 weights: small drift only).
    model = learned.read(out)
    sample = texts[:: max(1, len(texts) // 50)]
    ours = np.array([model.probabilities(t) for t in sample])
    drift = float(np.abs(ours - pipe.predict_proba(sample)).max())
    if drift > 1e-3:
        raise RuntimeError(f"numpy inference drifts from scikit-learn by {drift}")
    ours_acc = np.array([model.accusation_probability(t) for t in sample])
    drift = float(np.abs(ours_acc - det.predict_proba(sample)[:, 1]).max())
    if drift > 1e-3:
        raise RuntimeError(f"the accusation detector drifts from scikit-learn by {drift}")
    summary = {k: v for k, v in meta.items() if k != "vocabulary"}
    summary["features"] = len(vocab)
    summary["artifact_bytes"] = learned.artifact_size(out)
    summary["validation"] = validation  # out of fold, on the train split, thresholds included
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
