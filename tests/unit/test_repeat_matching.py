"""Repeat petitions (重复信访) that survive rewording (issue #14 item 5): the matter score, the
repeat index, the metrics it is judged by, and the repeat corpus they are measured on."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from xinfang_routing import repeat_corpus as rc
from xinfang_routing.repeats.matching import RepeatIndex, default_matcher, signature

ROOT = Path(__file__).resolve().parents[2]
ORG_TREE = ROOT / "shared" / "src" / "xinfang_shared" / "data" / "org_tree.yaml"

WAGES = (
    "我在县城一个小区工地跟着包工头干了半年木工，工钱三万一千块一直没结，包工头说开发商没给他钱，"
    "现在电话也不接了，请劳动监察帮我把工钱要回来。"
)
WAGES_AGAIN = (
    "第三次打电话了！小区工地包工头欠我的三万一木工钱还是没给，劳动监察说在查，到底查到哪了？"
)
MOTHER = "我母亲今年八十岁，高龄补贴今年起停发了，村里说名单上没有她，请求核实后恢复发放。"
ANOTHER = "工钱的事先不提，这次反映另一件事：" + MOTHER


@pytest.fixture(scope="module")
def index() -> RepeatIndex:
    return RepeatIndex()


def _add(index: RepeatIndex, case_id: str, text: str, keys: list[str]) -> None:
    index.add(
        case_id=case_id,
        root_case_id=case_id,
        keys=keys,
        sig=signature(text),
        profile=index.profile(text),
    )


def test_a_reworded_repeat_scores_as_the_same_matter_and_another_matter_does_not() -> None:
    m = default_matcher()
    first = m.profile(WAGES)
    assert m.score(first, m.profile(WAGES_AGAIN)) >= m.weights.threshold
    assert m.score(first, m.profile(MOTHER)) < m.weights.threshold


def test_a_new_matter_cue_sets_the_old_matter_aside() -> None:
    """“工钱的事先不提，这次反映另一件事：…” names the old matter only to set it aside: only what
    follows is compared, and it matches an earlier item about that other matter."""
    m = default_matcher()
    assert m.cues.focus(ANOTHER) == MOTHER
    new = m.profile(ANOTHER)
    assert new.new_matter and not m.profile(WAGES_AGAIN).new_matter
    assert m.score(m.profile(WAGES), new) < m.weights.threshold
    assert m.score(m.profile(MOTHER), new) >= m.weights.threshold


def test_a_stored_profile_scores_exactly_as_the_one_in_memory() -> None:
    """Profiles go to the database and come back at start: nothing may change."""
    m = default_matcher()
    p = m.profile(WAGES)
    cols = m.encode(p)
    back = m.decode(cols["terms"], cols["topic"])
    assert back is not None
    assert np.array_equal(back.chars, p.chars) and np.array_equal(back.weights, p.weights)
    again = m.profile(WAGES_AGAIN)
    assert m.score(back, again) == m.score(p, again)
    assert m.decode(None, None) is None  # a row stored before profiles existed


def test_the_index_links_only_the_same_petitioner_and_picks_the_matter(index: RepeatIndex) -> None:
    _add(index, "wages", WAGES, ["id:a"])
    _add(index, "mother", MOTHER, ["id:a"])
    _add(index, "stranger", WAGES, ["id:b"])
    again = index.find(["id:a"], signature(WAGES_AGAIN), index.profile(WAGES_AGAIN))
    assert again is not None and again.root_case_id == "wages" and again.by == "profile"
    other = index.find(["id:a"], signature(ANOTHER), index.profile(ANOTHER))
    assert other is not None and other.root_case_id == "mother"
    assert index.find(["id:c"], signature(WAGES), index.profile(WAGES)) is None


def test_a_row_without_profile_is_matched_by_minhash_only() -> None:
    index = RepeatIndex(threshold=0.5)
    index.add(case_id="old", root_case_id="old", keys=["k"], sig=signature(WAGES))
    same = index.find(["k"], signature(WAGES), index.profile(WAGES))
    assert same is not None and same.by == "minhash"
    assert index.find(["k"], signature(WAGES_AGAIN), index.profile(WAGES_AGAIN)) is None


# -- the metrics (pure) ----------------------------------------------------------------------


def _t(tid: str, group: str, matter: str, hard: str = "") -> rc.Text:
    return rc.Text(tid, group, matter, "holdout", "x", "letter", "letter", hard, "", tid)


def test_pair_scores_count_precision_recall_and_f1() -> None:
    s = rc.scores([True, True, False, False], [True, False, True, False])
    assert (s["precision"], s["recall"], s["f1"]) == (0.5, 0.5, 0.5)
    assert (s["false_links"], s["missed"], s["positives"]) == (1, 1, 2)
    assert rc.scores([False], [False])["f1"] == 0.0  # no positives: nothing to find


def test_a_text_joins_a_case_it_resembles_as_a_whole_not_by_one_loose_item() -> None:
    texts = [_t("a1", "g", "A"), _t("a2", "g", "A"), _t("b", "g", "B", "same_category")]
    score = {("a1", "a2"): 2.0, ("a1", "b"): 0.0, ("a2", "b"): 1.5}

    def f(e: rc.Text, n: rc.Text) -> float:
        return score[(e.id, n.id)]

    # b scores 1.5 against a2 but 0 against a1: the case {a1, a2} scores 0.75, below 1.0
    roots = rc.link(texts, f, 1.0)
    assert roots == {"a1": "a1", "a2": "a1", "b": "b"}
    assert rc.arrivals(texts, roots) == {
        "arrivals": 3,
        "right": 1.0,
        "wrong_links": 0,
        "missed_repeats": 0,
    }
    assert rc.pairwise(texts, f, 1.0)["false_links"] == 1  # taken alone, a2-b is a false link
    loose = rc.link(texts, f, 0.7)  # a lower threshold lets b in, and so into a1's case
    assert loose["b"] == "a1"
    linked = rc.linked_pairs(texts, loose)
    assert (linked["false_links"], linked["missed"]) == (2, 0)
    assert rc.false_links_by_kind(texts, loose) == {"same_category": 1}
    assert rc.arrivals(texts, loose)["wrong_links"] == 1


def test_pairs_stay_within_one_petitioner() -> None:
    texts = [_t("a1", "g", "A"), _t("a2", "g", "A"), _t("c", "h", "C")]
    assert [(p.first.id, p.second.id, p.same) for p in rc.pairs(texts)] == [("a1", "a2", True)]


# -- the corpus ------------------------------------------------------------------------------

TEXTS = rc.load()


def test_the_corpus_has_enough_groups_and_hard_negatives_split_by_group() -> None:
    groups = {t.group for t in TEXTS}
    assert len(groups) >= 150
    hard = Counter(t.hard for t in TEXTS if t.hard)
    assert sum(hard.values()) >= 150 and set(hard) == {"other_problem", "same_category"}
    splits = {g: {t.split for t in TEXTS if t.group == g} for g in groups}
    assert all(len(s) == 1 for s in splits.values())  # a group is wholly train or holdout
    holdout = sum(s == {"holdout"} for s in splits.values()) / len(groups)
    assert 0.2 <= holdout <= 0.3
    items = Counter(t.group for t in TEXTS if not t.hard)
    assert all(2 <= n <= 4 for n in items.values()), items
    assert {t.channel for t in TEXTS} == {"letter", "visit", "online", "phone"}


def test_no_sentence_is_repeated_and_nothing_is_about_the_demo_city() -> None:
    tree = yaml.safe_load(ORG_TREE.read_text(encoding="utf-8"))
    names = {str(u["name"]) for u in tree["units"] if len(str(u["name"])) >= 3}
    seen: dict[str, str] = {}
    for t in TEXTS:
        assert not [n for n in names if n in t.content], t.id
        for s in (x.strip() for x in re.split(r"[。！？!?\n]", t.content)):
            if len(s) >= 12:
                assert seen.setdefault(s, t.id) == t.id, (seen[s], t.id, s)
