"""The labelled set of 174 petitions through the real routing code and database."""

from __future__ import annotations

import json

from tests.conftest import Databases
from tests.labelled import HOLDOUT, evaluate, load


def test_the_labelled_set_is_large_and_covers_every_category() -> None:
    items = load()
    assert len(items) >= 150
    cats = {i["expected"]["category"] for i in items}
    from xinfang_routing.rules import default_rules

    assert cats == set(default_rules().categories)
    assert sum(1 for i in items if i["expected"]["repeat_of"]) >= 15


async def test_routing_meets_the_bars_on_the_labelled_set(databases: Databases) -> None:
    report = await evaluate(await databases.new("routing"))
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    assert report.department_right / report.total >= 0.95, report.wrong_department
    # a wrong body costs an objection round trip; a person triaging costs less (issue #14)
    assert len(report.misrouted) / report.total <= 0.02, report.misrouted
    assert report.legal_right == report.legal_total > 0  # every litigation item → legal channel
    assert report.accusations_confidential == report.accusations_total > 0
    assert report.repeats_linked_right == report.repeats_total, report.missed_links
    assert report.false_links == []  # no non-repeat linked


async def test_routing_generalises_to_the_held_out_set(databases: Databases) -> None:
    """76 petitions written independently of the classifier's keywords and of its training
    corpus, never used to tune either."""
    report = await evaluate(await databases.new("routing"), HOLDOUT)
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    assert report.total == 76
    assert report.department_right / report.total >= 0.90, report.wrong_department
    assert len(report.misrouted) / report.total <= 0.02, report.misrouted
    assert report.legal_right == report.legal_total > 0
    assert report.accusations_confidential == report.accusations_total > 0
