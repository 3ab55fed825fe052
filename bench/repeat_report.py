"""Score repeat matching (重复信访) on the repeat corpus's HOLDOUT groups only; prints JSON.

    uv run --frozen python -m bench.repeat_report

- `linked`: what the service does — the texts of each petitioner arrive in order and each
  joins the best-scoring earlier case at or above the threshold; a pair is predicted "same
  matter" when both texts end in the same case. The headline F1.
- `pairwise`: the matcher's answer on each pair taken alone.
- `arrivals`: each arrival right / wrongly linked / a missed repeat.
- `ablation`: the same fit (train groups only) with fewer features, for what each adds.
- `latency_ms`: profile of a new text + scoring it against 10 earlier items.
Weights and threshold come from data/repeat_model.json (fitted on the train groups by
`python -m xinfang_routing.repeat_fit`); nothing here is tuned on the holdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from xinfang_routing import repeat_corpus as rc
from xinfang_routing import repeat_fit
from xinfang_routing.repeats import matching as repeats


def evaluate(
    matcher: repeats.Matcher, texts: list[rc.Text], profs: dict[str, repeats.Profile]
) -> dict[str, Any]:
    def score(a: rc.Text, b: rc.Text) -> float:
        return matcher.score(profs[a.id], profs[b.id])

    threshold = matcher.weights.threshold
    roots = rc.link(texts, score, threshold)
    return {
        "linked": rc.linked_pairs(texts, roots),
        "pairwise": rc.pairwise(texts, score, threshold),
        "arrivals": rc.arrivals(texts, roots),
        "false_links_by_kind": rc.false_links_by_kind(texts, roots),
    }


def _latency(matcher: repeats.Matcher, texts: list[rc.Text]) -> dict[str, float]:
    earlier = [matcher.profile(t.content, t.title) for t in texts[:10]]
    times = []
    for t in texts:
        start = time.perf_counter()
        p = matcher.profile(t.content, t.title)
        for e in earlier:
            matcher.score(e, p)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "p50": round(times[len(times) // 2], 3),
        "p99": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
    }


def report(corpus: Path = rc.DEFAULT_DIR) -> dict[str, Any]:
    """The repeat section of the routing report (issue #14 item 6), JSON-ready."""
    texts = rc.load(corpus)
    train, holdout = rc.split(texts, "train"), rc.split(texts, "holdout")
    matcher = repeats.default_matcher()
    profs = repeat_fit.profiles(matcher, texts)
    fitted = json.loads(
        (Path(repeats.__file__).parent / "data" / repeats.MODEL_FILE).read_text(encoding="utf-8")
    )
    out: dict[str, Any] = {
        "split": "holdout",
        "groups": len({t.group for t in holdout}),
        "texts": len(holdout),
        "hard_negatives": sum(1 for t in holdout if t.hard),
        "corpus_hash": rc.corpus_hash(texts),
        "fitted_on_corpus_hash": fitted["fitted_on"]["corpus_hash"],
        "classifier_version": matcher.model.version,
        "fitted_with_classifier": fitted["fitted_on"]["classifier_version"],
        "weights": {f: getattr(matcher.weights, f) for f in repeats.FEATURES},
        "bias": matcher.weights.bias,
        "threshold": matcher.weights.threshold,
        **evaluate(matcher, holdout, profs),
        "latency_ms": _latency(matcher, holdout),
    }
    ablation: dict[str, Any] = {}
    for name, use in (
        ("text", ("text",)),
        ("text+topic", ("text", "topic")),
        ("text+topic+follow_up", ("text", "topic", "follow_up")),
    ):
        w = repeat_fit.fit(train, profs, use)
        m = repeats.Matcher(matcher.model, matcher.cues, w)
        ablation[name] = evaluate(m, holdout, profs)["linked"]
    out["ablation_linked"] = ablation
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="repeat matching report (holdout groups)")
    parser.add_argument("--corpus", type=Path, default=rc.DEFAULT_DIR)
    args = parser.parse_args(argv)
    print(json.dumps(report(args.corpus), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
