"""The learned routing classifier (xinfang_routing.learned, built by xinfang_routing.train):
the shipped artifact matches the corpus, and its holdout figures do not fall back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from xinfang_routing import corpus, learned, train
from xinfang_routing.rules import default_rules


@pytest.fixture(scope="module")
def holdout_report() -> dict[str, Any]:
    rules = default_rules()
    channels = {code: r.channel for code, r in rules.categories.items()}
    model = learned.load()
    preds = []
    for item in corpus.split(corpus.load(), "holdout"):
        result = model.classify(item.content, item.title)
        top = None if result.abstain else result.ranked[0][0]
        preds.append(corpus.Prediction(item.category, top, result.accusation))
    return corpus.report(preds, channels=channels, accusatory=model.accusatory)


def test_the_shipped_artifact_is_built_from_the_current_corpus() -> None:
    model = learned.load()
    assert model.corpus_hash == corpus.corpus_hash(corpus.load()), (
        "corpus changed: rebuild with `uv run --frozen python -m xinfang_routing.train`"
    )
    assert model.version.endswith(model.corpus_hash[:12])
    assert learned.artifact_size() < 5_000_000
    assert set(model.categories) == set(default_rules().categories)


def test_holdout_accusations_are_all_sealed_and_abstention_is_bounded(
    holdout_report: dict[str, Any],
) -> None:
    assert holdout_report["accusation_recall"] == 1.0
    assert holdout_report["abstention_rate"] <= 0.15


def test_holdout_floors_measured_not_targets(holdout_report: dict[str, Any]) -> None:
    # Floors at the figures measured for char-tfidf-logreg-1 (holdout, 278 items): legal
    # recall 0.861 and answered accuracy 0.914 are BELOW the targets (0.98, 0.97);
    # these only keep a rebuild from falling back.
    assert holdout_report["legal_channel_recall"] >= 0.86
    assert holdout_report["answered_accuracy"] >= 0.91
    assert holdout_report["misroute_rate"] <= 0.09


def test_char_ngrams_match_scikit_learn_so_the_model_scores_the_same() -> None:
    text = "官司输了  不服，\n想再告 ABC"
    ours = sorted(learned.char_ngrams(text, 1, 3))
    theirs = sorted(TfidfVectorizer(analyzer="char", ngram_range=(1, 3)).build_analyzer()(text))
    assert ours == theirs


def test_classify_ranks_every_category_with_probabilities() -> None:
    result = learned.classify("村主任把上面拨下来的修路钱拿去给自己家盖房子了", "")
    probs = [p for _, p in result.ranked]
    assert len(result.ranked) == len(default_rules().categories)
    assert probs == sorted(probs, reverse=True)
    assert sum(probs) == pytest.approx(1.0, abs=1e-3)


def test_abstention_threshold_respects_the_budget() -> None:
    top = np.array([0.9, 0.8, 0.3, 0.2, 0.1, 0.95, 0.85, 0.7, 0.6, 0.5])
    correct = np.array([1, 1, 0, 0, 0, 1, 1, 1, 1, 0], dtype=bool)
    # Budget 20 %: may abstain on the two lowest (0.1, 0.2); 0.3 would make it 30 %.
    assert train.abstention_threshold(top, correct, budget=0.2) == pytest.approx(0.3)
    # With no budget, nothing is abstained on.
    assert train.abstention_threshold(top, correct, budget=0.0) == pytest.approx(0.1)


def test_accusation_threshold_catches_every_validation_accusation() -> None:
    p = np.array([0.9, 0.05, 0.4, 0.02, 0.3])
    is_acc = np.array([True, False, True, False, True])
    t = train.accusation_threshold(p, is_acc)
    assert (p[is_acc] >= t).all() and t <= 0.3
