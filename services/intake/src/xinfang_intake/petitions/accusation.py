"""检举控告 (accusation cases): which petitions are sealed, and what other services see of them.

Intake decides before anything is stored, so an informant is sealed before anything about them
leaves the desk. A petition is sealed when any of these says it is an accusation:
- the registrar (``accusation: true``);
- its category is routing's accusation category (``cadre_report`` / 检举控告, data/rules.yaml);
- its title or content uses one of the words of accusation below;
- the learned classifier shared with routing (xinfang_shared.classifier) reads it as an
  accusation, or is unsure whether it is one (P(accusatory) reaches its `accusation_at`, set
  low on purpose when it is trained).
The rule errs toward sealing: sealing a non-accusation costs a leader one audited reveal and its
petitioner the SMS/e-mail receipt; not sealing an accusation can cost an informant their safety.
The registrar's choice therefore wins toward sealing, never against it (``accusation: false``
does not unseal). Routing marks every sealed item confidential (``informant_sealed`` on
``petition.received``), whatever category it gives it.
"""

from __future__ import annotations

from xinfang_shared.classifier import Model

from xinfang_intake.petitions.schemas import PetitionCreate

ACCUSATION_KIND = "检举控告"
ACCUSATION_WORDS = ("举报", "检举", "控告")
# routing's categories of kind 检举控告 (code and label, data/rules.yaml)
ACCUSATION_CATEGORIES = frozenset({"cadre_report", "检举控告"})
# what every event and every reader outside the reveal endpoint gets instead of a name
INFORMANT_PLACEHOLDER = "检举人（保密）"


# why an item was sealed, as the registration's history tells the clerk
SEALED_BECAUSE = {
    "registrar": "登记员标记为检举控告",
    "category": "问题类别为检举控告",
    "words": "内容含检举控告用语",
    "model": "系统识别为可能的检举控告",
}


def accusation_reason(data: PetitionCreate, *, model: Model) -> str | None:
    """Why this petition is sealed as an accusation (a key of SEALED_BECAUSE), or None. Pure."""
    if data.accusation:
        return "registrar"
    if data.category and data.category.strip() in ACCUSATION_CATEGORIES:
        return "category"
    text = f"{data.title or ''}\n{data.content}"
    if any(word in text for word in ACCUSATION_WORDS):
        return "words"
    if model.classify(data.content, data.title or "").accusation:
        return "model"
    return None


def is_accusation(data: PetitionCreate, *, model: Model) -> bool:
    return accusation_reason(data, model=model) is not None


def sealed_context(case_id: str) -> str:
    """The associated data that binds a sealed identity to its case."""
    return f"xinfang/informant/{case_id}"
