"""The repeat corpus (services/routing/corpus/repeats/*.yaml) and the metrics repeat matching is
judged by on it (issue #14 item 5). Loading reads files; pairing and every metric are pure.

A group is one petitioner: `items` tell one matter two to four times (a letter, then a visit, a
shorter angrier post...), `others` are the same petitioner's other matters (hard negatives:
another problem of the same village, or the same category but another matter). Every pair of
texts of one group is a question the matcher answers: the same matter or not. Pairs across
groups never arise (another petitioner has other identity keys) and are not counted.
The split is by group: a group is wholly train or wholly holdout."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# services/routing/src/xinfang_routing/repeat_corpus.py -> services/routing/corpus/repeats
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "corpus" / "repeats"


@dataclass(frozen=True)
class Text:
    id: str  # <group id>/<n> for the matter's items, <group id>/o<n> for the others
    group: str
    matter: str  # texts with the same matter are repeats of each other
    split: str  # train | holdout (the group's)
    category: str
    channel: str  # letter | visit | online | phone
    voice: str
    hard: str  # "" for the matter's items; other_problem | same_category for the others
    title: str
    content: str


@dataclass(frozen=True)
class Pair:
    first: Text  # the earlier arrival
    second: Text
    same: bool  # the truth: the same matter


def _text(group: dict[str, Any], raw: dict[str, Any], tid: str, matter: str, hard: str) -> Text:
    return Text(
        id=tid,
        group=str(group["id"]),
        matter=matter,
        split=str(group["split"]),
        category=str(raw.get("category") or group["category"]),
        channel=str(raw["channel"]),
        voice=str(raw["voice"]),
        hard=hard,
        title=str(raw.get("title") or ""),
        content=str(raw["content"]),
    )


def load(directory: Path = DEFAULT_DIR) -> list[Text]:
    """Every text, group by group, each group's matter items first in the order they arrived."""
    texts: list[Text] = []
    for path in sorted(directory.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for group in doc.get("groups") or []:
            gid = str(group["id"])
            for n, raw in enumerate(group.get("items") or [], start=1):
                texts.append(_text(group, raw, f"{gid}/{n}", gid, ""))
            for n, raw in enumerate(group.get("others") or [], start=1):
                tid = f"{gid}/o{n}"
                texts.append(_text(group, raw, tid, tid, str(raw["hard"])))
    return texts


def split(texts: Iterable[Text], name: str) -> list[Text]:
    return [t for t in texts if t.split == name]


def pairs(texts: Sequence[Text]) -> list[Pair]:
    """Every pair of texts of the same group (petitioner), in corpus order."""
    by_group: dict[str, list[Text]] = {}
    for t in texts:
        by_group.setdefault(t.group, []).append(t)
    return [
        Pair(a, b, a.matter == b.matter)
        for group in by_group.values()
        for a, b in itertools.combinations(group, 2)
    ]


# -- metrics (pure) -----------------------------------------------------------------------


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def scores(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 of "the same matter" over pairs, with the counts."""
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * tp, 2 * tp + fp + fn)
    return {
        "pairs": len(truth),
        "positives": tp + fn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "false_links": fp,
        "missed": fn,
    }


def arrivals(texts: Sequence[Text], same: Callable[[Text, Text], bool]) -> dict[str, float]:
    """What a registrar sees: the texts of a group arrive in order (each matter's items, then
    each other); an arrival is linked to the earlier text `same` matches best-first (the first
    one that matches here). Right: a later item of a matter linked to an earlier item of the
    same matter; a first item or another matter left on its own. Wrong links and missed
    repeats are counted separately."""
    by_group: dict[str, list[Text]] = {}
    for t in texts:
        by_group.setdefault(t.group, []).append(t)
    right = wrong_link = missed = 0
    for group in by_group.values():
        for k, t in enumerate(group):
            earlier = group[:k]
            match = next((e for e in earlier if same(e, t)), None)
            should = any(e.matter == t.matter for e in earlier)
            if match is None:
                right += not should
                missed += should
            elif match.matter == t.matter:
                right += 1
            else:
                wrong_link += 1
    total = right + wrong_link + missed
    return {
        "arrivals": total,
        "right": round(_ratio(right, total), 4),
        "wrong_links": wrong_link,
        "missed_repeats": missed,
    }
