"""Run the labelled petition set (tests/data/labelled_petitions.yaml) through the real routing
service code (decision, repeat index, database) and score it against the expectations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from xinfang_intake.petitions.accusation import is_accusation
from xinfang_intake.petitions.schemas import PetitionCreate
from xinfang_intake.petitions.validation import id_hash, mask_id_number
from xinfang_routing.cases import service
from xinfang_routing.cases.decision import Decision
from xinfang_routing.context import RoutingContext
from xinfang_routing.repeats.matching import RepeatIndex
from xinfang_routing.rules import default_rules
from xinfang_shared import classifier as learned
from xinfang_shared import db, migrate, org
from xinfang_shared.events import CaseLinked, PetitionerInfo, PetitionReceived

DATA = Path(__file__).parent / "data" / "labelled_petitions.yaml"
SALT = "labelled-set-salt"


HOLDOUT = Path(__file__).parent / "data" / "holdout_petitions.yaml"


def load(path: Path = DATA) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def sealed_at_intake(item: dict[str, Any]) -> bool:
    """Whether intake seals the item's informant (检举控告), by intake's own rule."""
    person = item.get("petitioner") or {}
    body = {
        "channel": item["channel"],
        "anonymous": bool(item.get("anonymous")),
        "petitioners": [] if item.get("anonymous") else [{k: v for k, v in person.items() if v}],
        "receiving_office_code": item["receiving_office_code"],
        "matter_location_code": item.get("matter_location_code"),
        "matter_address": item.get("matter_address"),
        "category": item.get("category_given"),
        "title": item.get("title"),
        "content": item["content"],
    }
    return is_accusation(PetitionCreate.model_validate(body), model=learned.load())


def to_event(item: dict[str, Any], at: datetime) -> PetitionReceived:
    people = []
    if not item.get("anonymous"):
        p = item["petitioner"]
        idn = p.get("id_number")
        people.append(
            PetitionerInfo(
                name=p["name"],
                phone=p.get("phone"),
                id_hash=id_hash(idn, SALT) if idn else None,
                id_number_masked=mask_id_number(idn) if idn else None,
            )
        )
    return PetitionReceived(
        case_id=str(uuid.uuid5(uuid.NAMESPACE_URL, item["id"])),
        case_number=item["id"],
        channel=item["channel"],
        received_at=at,
        receiving_office_code=item["receiving_office_code"],
        receiving_office_name="",
        anonymous=bool(item.get("anonymous")),
        petitioners=people,
        persons=item.get("persons", 1),
        matter_location_code=item.get("matter_location_code"),
        matter_address=item.get("matter_address"),
        category=item.get("category_given"),
        title=item.get("title"),
        content=item["content"],
        informant_sealed=sealed_at_intake(item),
    )


@dataclass
class Report:
    total: int = 0
    department_right: int = 0
    unit_right: int = 0
    category_right: int = 0
    category_total: int = 0
    wrong_department: list[str] = field(default_factory=list)
    # of the wrong ones: left to a person (manual triage) or sent to a wrong body (misroute)
    triaged: list[str] = field(default_factory=list)
    misrouted: list[str] = field(default_factory=list)
    legal_total: int = 0
    legal_right: int = 0
    accusations_total: int = 0
    accusations_confidential: int = 0
    repeats_total: int = 0
    repeats_linked_right: int = 0
    false_links: list[str] = field(default_factory=list)
    missed_links: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "items": self.total,
            # the three add up to 1: the right body, a person triages it, a wrong body
            "body_accuracy": round(self.department_right / self.total, 4),
            "triage_rate": round(len(self.triaged) / self.total, 4),
            "misroute_rate": round(len(self.misrouted) / self.total, 4),
            "triaged": self.triaged,
            "misrouted": self.misrouted,
            "responsible_department_accuracy": round(self.department_right / self.total, 4),
            "responsible_unit_accuracy": round(self.unit_right / self.total, 4),
            "classifier_accuracy_without_registrar_category": round(
                self.category_right / self.category_total, 4
            ),
            "wrong_department": self.wrong_department,
            "litigation_items_to_legal_channel": f"{self.legal_right}/{self.legal_total}",
            "accusations_confidential": f"{self.accusations_confidential}/{self.accusations_total}",
            "repeats_linked": f"{self.repeats_linked_right}/{self.repeats_total}",
            "missed_links": self.missed_links,
            "false_links": self.false_links,
        }


async def evaluate(database_url: str, path: Path = DATA) -> Report:
    await migrate.upgrade_to_head(database_url, service="routing")
    engine = db.create_engine(database_url)
    ctx = RoutingContext(
        rules=default_rules(),
        model=learned.load(),
        index=RepeatIndex(),
        tree=org.default_tree(),
        id_salt=SALT,
    )
    items = load(path)
    by_id = {i["id"]: i for i in items}
    case_of = {to_event(i, datetime.now(UTC)).case_id: i["id"] for i in items}
    report = Report()
    start = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    sessions = db.sessionmaker(engine)
    try:
        for n, item in enumerate(items):
            event = to_event(item, start + timedelta(hours=n))
            async with sessions() as session, session.begin():
                uow = db.UnitOfWork(session)
                result = await service.route_petition(
                    uow=uow, ctx=ctx, petition=event, now=event.received_at
                )
                await uow.flush()
            exp = item["expected"]
            root_item = by_id[exp["repeat_of"]] if exp["repeat_of"] else item
            report.total += 1
            if isinstance(result, CaseLinked):
                linked_to = case_of[result.linked_case_id]
                if linked_to == exp["repeat_of"]:
                    report.repeats_linked_right += 1
                else:
                    report.false_links.append(f"{item['id']}→{linked_to}")
                dept = result.holder_code
                unit = org.default_tree().department(dept).unit if dept else None  # type: ignore[union-attr]
                legal = confidential = None
                manual = False
            else:
                assert isinstance(result, Decision)
                if exp["repeat_of"]:
                    report.missed_links.append(f"{item['id']}→{exp['repeat_of']}")
                dept, unit = result.responsible_department, result.responsible_unit
                legal, confidential = result.channel == "legal", result.confidential
                manual = result.needs_manual_triage
                if not item.get("category_given"):
                    report.category_total += 1
                    report.category_right += result.category == exp["category"]
            report.repeats_total += bool(exp["repeat_of"])
            if dept == root_item["expected"]["department"]:
                report.department_right += 1
            else:
                wrong = f"{item['id']}: {dept} ≠ {root_item['expected']['department']}"
                report.wrong_department.append(wrong)
                (report.triaged if manual else report.misrouted).append(wrong)
            report.unit_right += unit == root_item["expected"]["unit"]
            if exp["channel"] == "legal" and not exp["repeat_of"]:
                report.legal_total += 1
                report.legal_right += bool(legal)
            if exp["confidential"] and not exp["repeat_of"]:
                report.accusations_total += 1
                report.accusations_confidential += bool(confidential)
    finally:
        await engine.dispose()
    return report
