"""The corpus report's metrics (xinfang_routing.corpus) on small hand-made predictions."""

from __future__ import annotations

from pathlib import Path

import pytest
from xinfang_routing import corpus
from xinfang_routing.corpus import Prediction as P

CHANNELS = {
    "litigation": "legal",
    "court_enforcement": "legal",
    "cadre_report": "discipline",
    "wage_arrears": "ordinary",
    "demolition": "ordinary",
}
ACCUSATORY = ["cadre_report"]

# 8 items: 5 right, 2 wrong, 1 abstained.
PREDS = [
    P("wage_arrears", "wage_arrears"),
    P("wage_arrears", "demolition"),
    P("demolition", "demolition"),
    P("litigation", "court_enforcement"),  # wrong category, right (legal) channel
    P("court_enforcement", "court_enforcement"),
    P("litigation", None),  # abstained: a miss for the legal channel
    P("cadre_report", "cadre_report"),
    P("cadre_report", "wage_arrears", accusation=True),  # flagged: still sealed
]


def test_accuracy_abstention_and_misroute() -> None:
    assert corpus.accuracy(PREDS) == pytest.approx(4 / 8)
    assert corpus.abstention_rate(PREDS) == pytest.approx(1 / 8)
    assert corpus.answered_accuracy(PREDS) == pytest.approx(4 / 7)
    assert corpus.misroute_rate(PREDS) == pytest.approx(3 / 7)
    assert corpus.accuracy([]) == 0.0 and corpus.misroute_rate([P("a", None)]) == 0.0


def test_per_category_precision_and_recall() -> None:
    per = corpus.per_category(PREDS)
    assert per["wage_arrears"] == {"precision": 0.5, "recall": 0.5, "support": 2}
    assert per["demolition"] == {"precision": 0.5, "recall": 1.0, "support": 1}
    assert per["court_enforcement"] == {"precision": 0.5, "recall": 1.0, "support": 1}
    assert per["litigation"] == {"precision": 0.0, "recall": 0.0, "support": 2}


def test_confusion_pairs_most_frequent_first_and_no_abstentions() -> None:
    preds = [*PREDS, P("wage_arrears", "demolition")]
    pairs = corpus.confusion_pairs(preds)
    assert pairs[0] == ("wage_arrears", "demolition", 2)
    assert ("litigation", "court_enforcement", 1) in pairs
    assert all(q != "None" for _, q, _ in pairs) and len(pairs) == 3


def test_legal_channel_recall_counts_the_channel_not_the_category() -> None:
    # litigation->court_enforcement reaches the legal channel; the abstention does not.
    assert corpus.channel_recall(PREDS, CHANNELS, "legal") == pytest.approx(2 / 3)


def test_accusation_recall_counts_the_flag() -> None:
    assert corpus.accusation_recall(PREDS, ACCUSATORY) == 1.0
    unflagged = [P("cadre_report", "wage_arrears"), P("cadre_report", None)]
    assert corpus.accusation_recall(unflagged, ACCUSATORY) == 0.0
    assert corpus.false_accusation_rate(
        [P("demolition", "demolition", accusation=True), P("demolition", None)], ACCUSATORY
    ) == pytest.approx(0.5)


def test_report_is_one_json_ready_mapping() -> None:
    out = corpus.report(PREDS, channels=CHANNELS, accusatory=ACCUSATORY)
    assert out["items"] == 8 and out["abstention_rate"] == 0.125
    assert out["confusion_pairs"][0]["count"] == 1


def test_load_split_and_hash(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "items:\n"
        "  - {id: a-0001, category: litigation, split: train, voice: oral,"
        " keyword_free: true, content: 官司输了不服想再告}\n"
        "  - {id: a-0002, category: demolition, split: holdout, voice: terse,"
        " keyword_free: false, title: 强拆, content: 房子被拆了没给钱}\n",
        encoding="utf-8",
    )
    items = corpus.load(tmp_path)
    assert [i.id for i in corpus.split(items, "holdout")] == ["a-0002"]
    assert items[1].title == "强拆" and items[0].title == ""
    before = corpus.corpus_hash(items)
    assert corpus.corpus_hash(list(reversed(items))) == before  # order does not matter
    changed = [items[0], corpus.Item(**{**items[1].__dict__, "category": "litigation"})]
    assert corpus.corpus_hash(changed) != before


def test_confusion_table_counts_every_cell_with_abstentions_apart() -> None:
    table = corpus.confusion_table(PREDS)
    assert table["litigation"] == {corpus.ABSTAINED: 1, "court_enforcement": 1}
    assert table["wage_arrears"] == {"demolition": 1, "wage_arrears": 1}
    assert sum(n for row in table.values() for n in row.values()) == len(PREDS)


def test_accusations_sealed_are_told_apart_from_those_sent_to_discipline() -> None:
    extra = [P("cadre_report", None, accusation=True), P("wage_arrears", "wage_arrears", True)]
    b = corpus.accusation_breakdown([*PREDS, *extra], ACCUSATORY)
    assert b["accusations"] == 3 and b["sealed"] == 3 and b["not_sealed"] == 0
    assert b["sent_to_discipline"] == 1
    assert b["sealed_placed_elsewhere"] == 1 and b["sealed_abstained"] == 1
    assert b["non_accusations_sealed"] == 1
