"""Score routing end to end on the labelled and held-out sets (decision, repeat index,
database), and its decision alone on the routing corpus's held-out split; prints JSON.

Per set: accuracy of the responsible body, triage rate (left to a person) and misroute rate
(sent to a wrong body), which add up to 1; then the classifier's accuracy, the legal and
discipline channels and the repeat links.

    uv run --frozen python -m bench.labelled_report"""

from __future__ import annotations

import asyncio
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from xinfang_routing import corpus
from xinfang_routing.cases.decision import Classifies, decide
from xinfang_routing.rules import Rules, default_rules
from xinfang_shared import classifier as learned
from xinfang_shared import org
from xinfang_shared.events import PetitionReceived

from tests.labelled import DATA, HOLDOUT, evaluate

# The corpus is not tied to the demo tree: each item is read as a letter to a county's petition
# bureau about a matter in one of its villages.
CORPUS_OFFICE, CORPUS_PLACE = "339922", "339922102201"


class _Truth:
    """A classifier that answers nothing, for the decision the true category leads to."""

    def classify(self, content: str, title: str = "") -> learned.Result:
        return learned.Result(ranked=(("suggestion", 0.0),), abstain=True, accusation=False)


def _letter(item: corpus.Item, category: str | None) -> PetitionReceived:
    return PetitionReceived(
        case_id=item.id,
        case_number=item.id,
        channel="letter",
        received_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        receiving_office_code=CORPUS_OFFICE,
        receiving_office_name="",
        anonymous=True,
        persons=1,
        matter_location_code=CORPUS_PLACE,
        category=category,
        title=item.title or None,
        content=item.content,
    )


def corpus_placement(
    items: list[corpus.Item], *, tree: org.OrgTree, rules: Rules, model: Classifies
) -> dict[str, Any]:
    """Where the decision sends each item, against where its true category leads (the
    registrar's choice of it; an accusation sealed and sent to 纪检监察)."""
    right = triaged = 0
    misrouted: list[str] = []
    legal_total = legal_right = acc_total = acc_right = 0
    for item in items:
        truth = rules.categories[item.category]
        expected = decide(
            _letter(item, item.category).model_copy(
                update={"informant_sealed": truth.confidential}
            ),
            tree=tree,
            rules=rules,
            model=_Truth(),
        )
        d = decide(_letter(item, None), tree=tree, rules=rules, model=model)
        if d.responsible_department == expected.responsible_department:
            right += 1
        elif d.needs_manual_triage:
            triaged += 1
        else:
            misrouted.append(f"{item.id} ({item.category}): {d.responsible_department}")
        if truth.channel == "legal":
            legal_total += 1
            legal_right += d.channel == "legal"
        if truth.confidential:
            acc_total += 1
            acc_right += d.confidential and d.responsible_department in {
                expected.responsible_department,
                *(o.code for o in tree.departments.values() if o.kind.value == "petition_office"),
            }
    n = len(items)
    return {
        "items": n,
        "where": f"letters to {CORPUS_OFFICE} about {CORPUS_PLACE} (demo tree)",
        "body_accuracy": round(right / n, 4),
        "triage_rate": round(triaged / n, 4),
        "misroute_rate": round(len(misrouted) / n, 4),
        "legal_channel_recall": round(legal_right / legal_total, 4) if legal_total else None,
        # sealed, and sent to 纪检监察 or to a petition office to triage
        "accusations_sealed": f"{acc_right}/{acc_total}",
        "misrouted": misrouted,
    }


def main() -> None:
    """The labelled set and the held-out set (written independently, never used for tuning;
    the learned classifier is trained on the routing corpus's train split, none of these)."""
    out: dict[str, Any] = {}
    for name, path in (("labelled", DATA), ("holdout", HOLDOUT)):
        url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'routing.db'}"
        out[name] = asyncio.run(evaluate(url, path)).as_dict()
    out["corpus_holdout"] = corpus_placement(
        corpus.split(corpus.load(), "holdout"),
        tree=org.default_tree(),
        rules=default_rules(),
        model=learned.load(),
    )
    print(json.dumps(out, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
