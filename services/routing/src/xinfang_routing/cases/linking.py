"""The registrar's own link (``repeat_of`` on petition.received): at the desk the registrar saw
that the item repeats an open case and named its case number. Routing links it there, as it
links a repeat it detects itself, when that case is open and lies in the receiving office's
subtree (where the registrar works); otherwise the item is routed as usual and its hop says
why the link was not made. Pure lookups: nothing is written here."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from xinfang_shared import org
from xinfang_shared.auth.scope import unit_of
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import PetitionReceived

from xinfang_routing.models import cases
from xinfang_routing.repeats.matching import Match


@dataclass(frozen=True)
class AskedLink:
    root: Any | None  # the open case to link to, or None
    match: Match | None
    note: str | None  # why the link was not made (said in the hop's reason)


def _in_office_subtree(tree: org.OrgTree, office: str, case: Any) -> bool:
    codes = (
        case.receiving_office_code,
        case.holder_code,
        case.responsible_unit_code,
        case.supervising_code,
    )
    for code in codes:
        unit = unit_of(tree, code) if code else None
        if unit is not None and tree.is_ancestor(office, unit):
            return True
    return False


async def asked_link(*, uow: UnitOfWork, tree: org.OrgTree, p: PetitionReceived) -> AskedLink:
    """The case ``p.repeat_of`` names, if it may take this item; else why not."""
    number = p.repeat_of
    staged = [r for r in uow.staged(cases) if r["case_number"] == number]
    found: Any = staged[-1] if staged else None
    if found is not None:
        found = SimpleNamespace(**found)
    else:
        found = (
            await uow.session.execute(select(cases).where(cases.c.case_number == number).limit(1))
        ).first()
    if found is not None and found.status == "linked" and found.linked_to:
        found = (
            await uow.session.execute(select(cases).where(cases.c.case_id == found.linked_to))
        ).first()
    if found is None or not _in_office_subtree(tree, p.receiving_office_code, found):
        return AskedLink(None, None, f"登记时关联的信访件 {number} 不在本级范围内，照常分办")
    if found.status != "routed":
        return AskedLink(None, None, f"登记时关联的信访件 {number} 已办结或不由本级分办，照常分办")
    match = Match(
        root_case_id=found.case_id,
        matched_case_id=found.case_id,
        similarity=0.0,
        score=1.0,
        by="registrar",
    )
    return AskedLink(found, match, None)
