"""检举控告 (accusation cases): which petitions are sealed, and what other services see of them.

A petition is an accusation when the registrar says so (``accusation: true``), when its category
is routing's accusation category (``cadre_report`` / 检举控告, data/rules.yaml), or when its title
or content uses one of the words of accusation below. The rule is conservative: the words are
the core of routing's ``cadre_report`` keywords (data/classifier.yaml) and sealing one item too
many only costs its petitioner the SMS/e-mail receipt; the registrar cannot unseal an item the
rule catches. Routing marks every sealed item confidential (``informant_sealed`` on
``petition.received``), whatever category it gives it.
"""

from __future__ import annotations

from xinfang_intake.petitions.schemas import PetitionCreate

ACCUSATION_KIND = "检举控告"
ACCUSATION_WORDS = ("举报", "检举", "控告")
# routing's categories of kind 检举控告 (code and label, data/rules.yaml)
ACCUSATION_CATEGORIES = frozenset({"cadre_report", "检举控告"})
# what every event and every reader outside the reveal endpoint gets instead of a name
INFORMANT_PLACEHOLDER = "检举人（保密）"


def is_accusation(data: PetitionCreate) -> bool:
    if data.accusation:
        return True
    if data.category and data.category.strip() in ACCUSATION_CATEGORIES:
        return True
    text = f"{data.title or ''}\n{data.content}"
    return any(word in text for word in ACCUSATION_WORDS)


def sealed_context(case_id: str) -> str:
    """The associated data that binds a sealed identity to its case."""
    return f"xinfang/informant/{case_id}"
