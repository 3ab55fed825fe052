"""The routing corpus (services/routing/corpus/*.yaml): labelled petitions written the way
people write, for training and evaluating the classifier (issue #14). These checks keep it
worth learning from: valid labels, a stratified held-out split, variety of voice, enough items
that avoid the obvious keyword, no duplicated sentences, nothing of the demo tree."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "services" / "routing" / "corpus"
RULES = ROOT / "services" / "routing" / "src" / "xinfang_routing" / "data" / "rules.yaml"
ORG_TREE = ROOT / "shared" / "src" / "xinfang_shared" / "data" / "org_tree.yaml"

VOICES = {"oral", "letter", "online", "elderly", "multi", "terse"}
FIELDS = {"id", "category", "split", "voice", "keyword_free", "title", "content"}
MIN_TOTAL = 1000


def _files() -> list[Path]:
    return sorted(CORPUS.glob("*.yaml"))


def _items(path: Path) -> list[dict[str, Any]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and isinstance(doc.get("items"), list), path.name
    return list(doc["items"])


def _categories() -> set[str]:
    return set(yaml.safe_load(RULES.read_text(encoding="utf-8"))["categories"])


def _demo_names() -> set[str]:
    """Names of the demo tree's places (the corpus must not be about the demo city)."""
    tree = yaml.safe_load(ORG_TREE.read_text(encoding="utf-8"))
    names: set[str] = set()
    for unit in tree.get("units", []):
        name = str(unit.get("name", ""))
        if len(name) >= 3:
            names.add(name)
    return names


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"[。！？!?\n]", text) if len(s.strip()) >= 12]


FILES = _files()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_file_is_well_formed_and_stratified(path: Path) -> None:
    categories = _categories()
    items = _items(path)
    by_category: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        assert set(item) <= FIELDS, (item.get("id"), set(item) - FIELDS)
        assert re.fullmatch(r"[a-z]+-\d{4}", str(item["id"])), item["id"]
        assert item["category"] in categories, (item["id"], item["category"])
        assert item["split"] in ("train", "holdout"), item["id"]
        assert item["voice"] in VOICES, (item["id"], item["voice"])
        assert isinstance(item["keyword_free"], bool), item["id"]
        content = str(item["content"])
        assert 20 <= len(content) <= 1500, (item["id"], len(content))
        by_category[item["category"]].append(item)
    for category, group in by_category.items():
        if len(group) < 20:  # a few near-misses of another group's category
            continue
        holdout = sum(i["split"] == "holdout" for i in group) / len(group)
        assert 0.15 <= holdout <= 0.3, (path.name, category, holdout)
        free = sum(i["keyword_free"] for i in group) / len(group)
        assert free >= 0.35, (path.name, category, free)
        voices = Counter(i["voice"] for i in group)
        assert len(voices) >= 5, (path.name, category, voices)


def test_ids_are_unique_and_no_sentence_is_repeated() -> None:
    ids: Counter[str] = Counter()
    seen: dict[str, str] = {}
    repeated: list[tuple[str, str, str]] = []
    for path in FILES:
        for item in _items(path):
            ids[item["id"]] += 1
            for sentence in _sentences(str(item["content"])):
                if sentence in seen and seen[sentence] != item["id"]:
                    repeated.append((seen[sentence], item["id"], sentence))
                seen.setdefault(sentence, item["id"])
    assert not [i for i, n in ids.items() if n > 1]
    assert not repeated[:5], repeated[:5]


def test_the_corpus_is_not_about_the_demo_city() -> None:
    names = _demo_names()
    hits = [
        (item["id"], name)
        for path in FILES
        for item in _items(path)
        for name in names
        if name in str(item["content"]) + str(item.get("title") or "")
    ]
    assert not hits[:5], hits[:5]


def test_total_size_covers_every_category() -> None:
    counts = Counter(item["category"] for path in FILES for item in _items(path))
    assert sum(counts.values()) >= MIN_TOTAL, sum(counts.values())
    thin = {c: counts.get(c, 0) for c in _categories() if counts.get(c, 0) < 40}
    assert not thin, thin
