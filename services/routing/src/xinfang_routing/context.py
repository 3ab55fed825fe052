"""What routing decides with, shared by its domains (cases, repeats, the org tree)."""

from __future__ import annotations

from dataclasses import dataclass, field

from xinfang_shared import org
from xinfang_shared.levels import Deployment

from xinfang_routing.cases.decision import Classifies
from xinfang_routing.repeats.matching import RepeatIndex
from xinfang_routing.rules import Rules

SOURCE = "/xinfang/routing"


@dataclass
class RoutingContext:
    """What a routing worker decides with: the org tree, the rules, the learned classifier
    (loaded once at start) and the repeat index. The tree is swapped whole when a new version
    is loaded."""

    rules: Rules
    model: Classifies
    index: RepeatIndex
    tree: org.OrgTree
    id_salt: str
    same_letter_threshold: float = 0.6
    deployment: Deployment = field(default_factory=lambda: Deployment("339900"))
    tree_version_id: int = 0
    tree_checked_at: float = 0.0
    refresh_every_s: float = 1.0  # how stale another replica's view may be
    stats: dict[str, int] = field(default_factory=lambda: {"routed": 0, "linked": 0})
