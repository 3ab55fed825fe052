"""The routing corpus (services/routing/corpus/*.yaml) and the metrics a classifier is judged
by on it (issue #14). Loading reads files; every metric is a pure function of predictions."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# services/routing/src/xinfang_routing/corpus.py -> services/routing/corpus
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "corpus"


@dataclass(frozen=True)
class Item:
    id: str
    category: str
    split: str  # train | holdout
    voice: str
    keyword_free: bool
    title: str
    content: str


@dataclass(frozen=True)
class Prediction:
    """What a classifier said about one item: `predicted` is None when it abstained (the item
    goes to a person); `accusation` is True when it treats the item as an accusation (sealed)."""

    truth: str
    predicted: str | None
    accusation: bool = False


def load(directory: Path = DEFAULT_DIR) -> list[Item]:
    items: list[Item] = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in doc.get("items") or []:
            items.append(
                Item(
                    id=str(raw["id"]),
                    category=str(raw["category"]),
                    split=str(raw["split"]),
                    voice=str(raw.get("voice", "")),
                    keyword_free=bool(raw.get("keyword_free", False)),
                    title=str(raw.get("title") or ""),
                    content=str(raw["content"]),
                )
            )
    return items


def split(items: Iterable[Item], name: str) -> list[Item]:
    return [i for i in items if i.split == name]


def corpus_hash(items: Iterable[Item]) -> str:
    """A hash of what a model learns from (labels, split and text; not comments or order)."""
    rows = sorted((i.id, i.category, i.split, i.title, i.content) for i in items)
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


# -- metrics (pure) -----------------------------------------------------------------------


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def accuracy(preds: Sequence[Prediction]) -> float:
    """Right among all items (an abstention is not right)."""
    return _ratio(sum(p.predicted == p.truth for p in preds), len(preds))


def abstention_rate(preds: Sequence[Prediction]) -> float:
    return _ratio(sum(p.predicted is None for p in preds), len(preds))


def answered_accuracy(preds: Sequence[Prediction]) -> float:
    """Right among the items the classifier did not abstain on."""
    answered = [p for p in preds if p.predicted is not None]
    return _ratio(sum(p.predicted == p.truth for p in answered), len(answered))


def misroute_rate(preds: Sequence[Prediction]) -> float:
    """Wrong category among the items not abstained on (each is sent to a wrong body)."""
    answered = [p for p in preds if p.predicted is not None]
    return _ratio(sum(p.predicted != p.truth for p in answered), len(answered))


def per_category(preds: Sequence[Prediction]) -> dict[str, dict[str, float]]:
    """Precision (among items predicted as the category) and recall (among items of the
    category; an abstention is a miss), with support, per category seen in truth or output."""
    cats = sorted({p.truth for p in preds} | {p.predicted for p in preds if p.predicted})
    out: dict[str, dict[str, float]] = {}
    for c in cats:
        tp = sum(p.truth == c and p.predicted == c for p in preds)
        predicted = sum(p.predicted == c for p in preds)
        support = sum(p.truth == c for p in preds)
        out[c] = {
            "precision": round(_ratio(tp, predicted), 4),
            "recall": round(_ratio(tp, support), 4),
            "support": support,
        }
    return out


def confusion_pairs(preds: Sequence[Prediction]) -> list[tuple[str, str, int]]:
    """(truth, predicted, count) for every wrong answer, most frequent first; an abstention is
    not a confusion (it is counted by abstention_rate)."""
    counts = Counter((p.truth, p.predicted) for p in preds if p.predicted not in (None, p.truth))
    return [(t, str(q), n) for (t, q), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def channel_recall(preds: Sequence[Prediction], channels: Mapping[str, str], channel: str) -> float:
    """Among items whose true category goes by `channel`, the share predicted in a category of
    the same channel (e.g. litigation read as court_enforcement still reaches the legal
    channel); an abstention is a miss."""
    relevant = [p for p in preds if channels.get(p.truth) == channel]
    hit = sum(p.predicted is not None and channels.get(p.predicted) == channel for p in relevant)
    return _ratio(hit, len(relevant))


def accusation_recall(preds: Sequence[Prediction], accusatory: Iterable[str]) -> float:
    """Among accusations (true category in `accusatory`), the share treated as one: flagged,
    or predicted in an accusatory category."""
    cats = set(accusatory)
    relevant = [p for p in preds if p.truth in cats]
    hit = sum(p.accusation or p.predicted in cats for p in relevant)
    return _ratio(hit, len(relevant))


def false_accusation_rate(preds: Sequence[Prediction], accusatory: Iterable[str]) -> float:
    """Among non-accusations, the share sealed as one (each costs a leader an audited reveal)."""
    cats = set(accusatory)
    relevant = [p for p in preds if p.truth not in cats]
    hit = sum(p.accusation or p.predicted in cats for p in relevant)
    return _ratio(hit, len(relevant))


ABSTAINED = "(abstained)"


def confusion_table(preds: Sequence[Prediction]) -> dict[str, dict[str, int]]:
    """truth -> predicted (ABSTAINED when the classifier abstained) -> count; only cells that
    occur, so the diagonal and the off-diagonal cells read as they are."""
    table: dict[str, dict[str, int]] = {}
    for p in preds:
        row = table.setdefault(p.truth, {})
        key = p.predicted or ABSTAINED
        row[key] = row.get(key, 0) + 1
    return {t: dict(sorted(row.items())) for t, row in sorted(table.items())}


def accusation_breakdown(preds: Sequence[Prediction], accusatory: Iterable[str]) -> dict[str, int]:
    """Of the accusations: how many are sealed (flagged or predicted accusatory), and of those
    how many also go to 纪检监察 (predicted in an accusatory category) rather than being sealed
    only while another category (or a person, on abstention) places them; and how many
    non-accusations are sealed."""
    cats = set(accusatory)
    relevant = [p for p in preds if p.truth in cats]
    others = [p for p in preds if p.truth not in cats]
    sealed = [p for p in relevant if p.accusation or p.predicted in cats]
    sent = [p for p in relevant if p.predicted in cats]
    return {
        "accusations": len(relevant),
        "sealed": len(sealed),
        "sent_to_discipline": len(sent),
        "sealed_placed_elsewhere": sum(p.predicted is not None for p in sealed) - len(sent),
        "sealed_abstained": sum(p.predicted is None for p in sealed),
        "not_sealed": len(relevant) - len(sealed),
        "non_accusations_sealed": sum(p.accusation or p.predicted in cats for p in others),
    }


def report(
    preds: Sequence[Prediction], *, channels: Mapping[str, str], accusatory: Iterable[str]
) -> dict[str, Any]:
    """Every metric as one JSON-ready mapping."""
    cats = sorted(set(accusatory))
    return {
        "items": len(preds),
        "accuracy": round(accuracy(preds), 4),
        "answered_accuracy": round(answered_accuracy(preds), 4),
        "abstention_rate": round(abstention_rate(preds), 4),
        "misroute_rate": round(misroute_rate(preds), 4),
        "legal_channel_recall": round(channel_recall(preds, channels, "legal"), 4),
        "accusation_recall": round(accusation_recall(preds, cats), 4),
        "false_accusation_rate": round(false_accusation_rate(preds, cats), 4),
        "accusations": accusation_breakdown(preds, cats),
        "per_category": per_category(preds),
        "confusion_pairs": [
            {"truth": t, "predicted": q, "count": n} for t, q, n in confusion_pairs(preds)
        ],
    }
