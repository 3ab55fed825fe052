"""Score a classifier on the routing corpus's HOLDOUT split only; prints one JSON document:
the headline figures, accusations sealed vs also sent to 纪检监察, per-category precision and
recall, the confusion table (truth -> predicted, abstentions apart) and its worst off-diagonal
cells, and breakdowns by voice and by keyword_free.

uv run --frozen python -m bench.corpus_report --classifier keywords
uv run --frozen python -m bench.corpus_report --classifier learned
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from xinfang_routing import corpus
from xinfang_routing.rules import default_rules

Predict = Callable[[corpus.Item], corpus.Prediction]


def _keywords() -> tuple[Predict, dict[str, object]]:
    from xinfang_routing.classifier import default_classifier

    clf = default_classifier()

    def predict(item: corpus.Item) -> corpus.Prediction:
        return corpus.Prediction(item.category, clf.classify(item.content, item.title).category)

    return predict, {"model": "keyword weights (data/classifier.yaml)"}


def _learned() -> tuple[Predict, dict[str, object]]:
    from xinfang_shared import classifier as learned

    model = learned.load()

    def predict(item: corpus.Item) -> corpus.Prediction:
        result = model.classify(item.content, item.title)
        return corpus.Prediction(item.category, result.category, result.accusation)

    return predict, {
        "model": "learned (data/model/)",
        "version": model.version,
        "model_corpus_hash": model.corpus_hash,
        "thresholds": {
            "abstain_below": model.abstain_below,
            "abstain_margin": model.abstain_margin,
            "accusation_at": model.accusation_at,
            "legal_at": model.legal_at,
        },
        "artifact_bytes": learned.artifact_size(),
    }


CLASSIFIERS: dict[str, Callable[[], tuple[Predict, dict[str, object]]]] = {
    "keywords": _keywords,
    "learned": _learned,
}


def _by_group(
    items: list[corpus.Item], preds: list[corpus.Prediction]
) -> dict[str, dict[str, float]]:
    """Accuracy, answered accuracy, misroute and abstention for keyword-free items and per
    voice."""
    groups: dict[str, list[corpus.Prediction]] = {}
    for item, pred in zip(items, preds, strict=True):
        groups.setdefault(f"keyword_free={str(item.keyword_free).lower()}", []).append(pred)
        groups.setdefault(f"voice={item.voice}", []).append(pred)
    return {
        name: {
            "items": len(group),
            "accuracy": round(corpus.accuracy(group), 4),
            "answered_accuracy": round(corpus.answered_accuracy(group), 4),
            "abstention_rate": round(corpus.abstention_rate(group), 4),
            "misroute_rate": round(corpus.misroute_rate(group), 4),
        }
        for name, group in sorted(groups.items())
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="routing corpus report (holdout split)")
    parser.add_argument("--classifier", choices=sorted(CLASSIFIERS), default="keywords")
    parser.add_argument("--corpus", type=Path, default=corpus.DEFAULT_DIR)
    args = parser.parse_args(argv)

    rules = default_rules()
    channels = {code: r.channel for code, r in rules.categories.items()}
    accusatory = [
        code for code, r in rules.categories.items() if r.channel == "discipline" or r.confidential
    ]
    items = corpus.load(args.corpus)
    holdout = corpus.split(items, "holdout")
    predict, meta = CLASSIFIERS[args.classifier]()

    preds: list[corpus.Prediction] = []
    times: list[float] = []
    for item in holdout:
        start = time.perf_counter()
        preds.append(predict(item))
        times.append(time.perf_counter() - start)
    times.sort()
    out = {
        "classifier": args.classifier,
        **meta,
        "split": "holdout",
        "corpus_hash": corpus.corpus_hash(items),
        "latency_ms": {
            "p50": round(times[len(times) // 2] * 1000, 3),
            "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))] * 1000, 3),
        },
        **corpus.report(preds, channels=channels, accusatory=accusatory),
        "by_group": _by_group(holdout, preds),
        "confusion_table": corpus.confusion_table(preds),
    }
    out["worst_confusions"] = out["confusion_pairs"][:10]
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
