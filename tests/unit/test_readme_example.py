"""The README's example of adding a department and a rule works as written."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import yaml
from xinfang_routing.cases.decision import decide
from xinfang_routing.rules import parse as parse_rules
from xinfang_shared import classifier as learned
from xinfang_shared import org
from xinfang_shared.events import PetitionReceived

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> str:
    text = README.read_text(encoding="utf-8")
    block = text.split("**Example: add a department and a rule.**", 1)[1]
    return re.search(r"```yaml\n(.*?)```", block, re.S).group(1)  # type: ignore[union-attr]


def _section(example: str, marker: str) -> str:
    lines = example.split("\n")
    start = next(i for i, line in enumerate(lines) if marker in line) + 1
    out = []
    for line in lines[start:]:
        if line.startswith("#"):
            break
        out.append(line)
    return "\n".join(out) + "\n"


def test_readme_example_routes_veterans_affairs_to_the_new_bureau() -> None:
    example = _example()
    tree = org.loads(org.default_tree_text() + _section(example, "org_tree.yaml"))
    rules_text = (
        resources.files("xinfang_routing").joinpath("data/rules.yaml").read_text(encoding="utf-8")
    )
    rules = parse_rules(yaml.safe_load(rules_text + _section(example, "rules.yaml")))
    petition = PetitionReceived(
        case_id="c",
        case_number="n",
        channel="letter",
        received_at=datetime.now(UTC),
        receiving_office_code="339922",
        receiving_office_name="",
        anonymous=True,
        persons=1,
        category="退役军人事务",  # the registrar's choice (the classifier needs retraining)
        content="我是退役军人，复员回乡多年，优抚金一直没有按标准发放。",
    )
    d = decide(petition, tree=tree, rules=rules, model=learned.load())
    assert d.category == "veterans"
    assert d.responsible_department == "339922-tyjr"
