"""The routing decision, free of I/O.

Walking-skeleton rule: every item goes to the petition office of the unit that received it,
which registers and handles it (直接办理). Jurisdiction rules (属地管理、分级负责、谁主管谁负责)
replace this in issue #3; the decision's shape stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from xinfang_shared import org
from xinfang_shared.events import PetitionReceived


@dataclass(frozen=True)
class Decision:
    action: str
    to_unit_code: str
    to_unit_name: str
    reason: str
    needs_manual_triage: bool


def petition_bureau_code(unit_code: str) -> str:
    return f"{unit_code}:xf"


def decide(petition: PetitionReceived) -> Decision:
    unit = org.get_unit(petition.receiving_office_code)
    name = unit.petition_office_name if unit else petition.receiving_office_name
    return Decision(
        action="直接办理",
        to_unit_code=petition_bureau_code(petition.receiving_office_code),
        to_unit_name=name,
        reason="由受理登记的信访部门办理（管辖规则尚未配置，待人工分办）",
        needs_manual_triage=True,
    )
