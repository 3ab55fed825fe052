"""The demo data (deploy/demo_petitions.json, deploy/demo_users.yaml) fit together: whoever a demo
petition is routed to can log in and work on it, in the single deployment and in the three-level
one (``make run LEVELS=3``). Computed from the data with routing's own pure decision, so it stays
true when either file changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from xinfang_intake.petitions.accusation import is_accusation
from xinfang_intake.petitions.schemas import PetitionCreate
from xinfang_routing.cases.decision import Decision, decide
from xinfang_routing.rules import default_rules
from xinfang_shared import classifier, org
from xinfang_shared.events import PetitionReceived

from deploy.run import DEMO_FILE, THREE_LEVELS, LevelSpec, demo_users, level_users


def routed(body: dict[str, Any], i: int) -> Decision:
    """Routing's decision for a demo petition as intake would publish it."""
    tree = org.default_tree()
    data = PetitionCreate.model_validate(body)
    office = tree.unit(data.receiving_office_code)
    assert office is not None, data.receiving_office_code
    event = PetitionReceived(
        case_id=f"demo-{i}",
        case_number=f"demo-{i}",
        channel=data.channel.value,
        received_at=datetime(2026, 3, 2, 2, 0, tzinfo=UTC),
        receiving_office_code=office.code,
        receiving_office_name=office.name,
        anonymous=data.anonymous,
        persons=data.persons or max(1, len(data.petitioners)),
        matter_location_code=data.matter_location_code,
        matter_address=data.matter_address,
        category=data.category,
        title=data.title,
        content=data.content,
        informant_sealed=is_accusation(data, model=classifier.load()),
    )
    return decide(event, tree=tree, rules=default_rules(), model=classifier.load())


def demo_decisions() -> list[Decision]:
    bodies = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
    return [routed(body, i) for i, body in enumerate(bodies)]


def handlers_at(users: list[dict[str, Any]], code: str) -> list[str]:
    return [u["username"] for u in users if u["role"] == "handler" and u["org_code"] == code]


def owning_level(code: str) -> LevelSpec:
    tree = org.default_tree()
    owners = [spec for spec in THREE_LEVELS if spec.deployment.owns(tree, code)]
    assert len(owners) == 1, (code, owners)
    return owners[0]


def test_every_body_a_demo_petition_is_routed_to_has_a_handler_account() -> None:
    users = demo_users()
    missing = sorted(
        {d.responsible_department for d in demo_decisions()}
        - {u["org_code"] for u in users if u["role"] == "handler"}
    )
    assert missing == [], f"no 承办人 account in deploy/demo_users.yaml for {missing}"


@pytest.mark.parametrize("spec", THREE_LEVELS, ids=lambda s: s.name)
def test_three_levels_each_level_seeds_the_handlers_of_the_demo_cases_it_owns(
    spec: LevelSpec,
) -> None:
    seeded = level_users(spec, demo_users())
    mine = sorted(
        {
            d.responsible_department
            for d in demo_decisions()
            if owning_level(d.responsible_department).name == spec.name
        }
    )
    assert [code for code in mine if not handlers_at(seeded, code)] == []


def test_demo_accounts_are_unique_and_in_the_tree() -> None:
    tree = org.default_tree()
    users = demo_users()
    names = [u["username"] for u in users]
    assert len(names) == len(set(names))
    for u in users:
        assert tree.unit(u["org_code"]) or tree.department(u["org_code"]), u
        if u["role"] == "handler":
            # a handler works on its department's cases: the account names that department
            assert tree.department(u["org_code"]) is not None, u
