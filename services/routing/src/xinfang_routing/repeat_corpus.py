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
from collections.abc import Callable, Iterable, Mapping, Sequence
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


def arrivals(texts: Sequence[Text], roots: Mapping[str, str]) -> dict[str, float]:
    """What a registrar sees, arrival by arrival (`roots` from `link`): right when a later item
    of a matter joined that matter's case, or a first item / another matter started its own.
    Wrong links and missed repeats are counted apart."""
    by_id = {t.id: t for t in texts}
    first_of: dict[str, str] = {}
    right = wrong_link = missed = 0
    for t in texts:
        should = t.matter in first_of
        first_of.setdefault(t.matter, t.id)
        joined = roots[t.id] != t.id
        if joined and by_id[roots[t.id]].matter != t.matter:
            wrong_link += 1
        elif should and not joined:
            missed += 1
        else:
            right += 1
    total = right + wrong_link + missed
    return {
        "arrivals": total,
        "right": round(_ratio(right, total), 4),
        "wrong_links": wrong_link,
        "missed_repeats": missed,
    }


def corpus_hash(texts: Iterable[Text]) -> str:
    """A hash of what the weights are fitted on (groups, split and text)."""
    import hashlib
    import json

    rows = sorted((t.id, t.matter, t.split, t.title, t.content) for t in texts)
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()


Score = Callable[[Text, Text], float]  # (earlier, new) -> matter score


def link(texts: Sequence[Text], score: Score, threshold: float) -> dict[str, str]:
    """What the service does, group by group in arrival order: a case scores the mean of its
    texts' scores against the new text (it must resemble the case as a whole, so that one
    loose link does not chain another matter in); the text joins the best case at or above
    `threshold`, else starts its own. Returns each text's case (the id of the text that
    started it)."""
    root: dict[str, str] = {}
    seen: dict[str, list[Text]] = {}
    for t in texts:
        earlier = seen.setdefault(t.group, [])
        by_case: dict[str, list[float]] = {}
        for e in earlier:
            by_case.setdefault(root[e.id], []).append(score(e, t))
        best: tuple[float, str] | None = None
        for case, ss in by_case.items():
            s = sum(ss) / len(ss)
            if s >= threshold and (best is None or s > best[0]):
                best = (s, case)
        root[t.id] = best[1] if best else t.id
        earlier.append(t)
    return root


def linked_pairs(texts: Sequence[Text], roots: Mapping[str, str]) -> dict[str, float]:
    """Precision, recall, F1 over the pairs of a group: the same matter vs. in the same case."""
    ps = pairs(texts)
    return scores([p.same for p in ps], [roots[p.first.id] == roots[p.second.id] for p in ps])


def pairwise(texts: Sequence[Text], score: Score, threshold: float) -> dict[str, float]:
    """Precision, recall, F1 of the matcher's own answer on every pair, taken one by one."""
    ps = pairs(texts)
    return scores([p.same for p in ps], [score(p.first, p.second) >= threshold for p in ps])


def false_links_by_kind(texts: Sequence[Text], roots: Mapping[str, str]) -> dict[str, int]:
    """Other matters wrongly put in a case with an earlier text, by kind of hard negative."""
    by_id = {t.id: t for t in texts}
    out: dict[str, int] = {}
    for t in texts:
        r = by_id[roots[t.id]]
        if t.hard and r.id != t.id and r.matter != t.matter:
            out[t.hard] = out.get(t.hard, 0) + 1
    return dict(sorted(out.items()))
