"""What supervision's service functions need besides the database: the rule profiles, the org
tree, this deployment's level, the reminder schedule and the working calendar in force."""

from __future__ import annotations

from dataclasses import dataclass, field

from xinfang_shared import org
from xinfang_shared.levels import Deployment
from xinfang_shared.workdays import WorkCalendar

from xinfang_supervision.cases.aggregate import Law
from xinfang_supervision.profiles import Profile


@dataclass
class SupervisionContext:
    profiles: dict[str, Profile]
    profile: str  # the deployment's profile for new cases
    tree: org.OrgTree
    reminder_days: tuple[int, ...] = (7, 3, 1)
    grace_days: int = 7
    max_escalations: int = 3
    backlog_after_days: int = 90
    repeat_wave_threshold: int = 3
    repeat_wave_days: int = 7
    deployment: Deployment = field(default_factory=lambda: Deployment("339900"))
    # working days: the calendar package, the statutory rules and the notices an administrator
    # loaded (replaced whole when a notice is loaded, and on every sweep)
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    stats: dict[str, int] = field(default_factory=lambda: {"notices": 0})

    def law(self, calendar: WorkCalendar | None = None) -> Law:
        """The law in force now (or under ``calendar``), for the case aggregate."""
        return Law(
            tree=self.tree,
            profiles=self.profiles,
            calendar=calendar or self.calendar,
            reminder_days=self.reminder_days,
        )

    def owns(self, code: str | None) -> bool:
        """This level runs the clock of what ``code`` holds (see xinfang_shared.levels)."""
        return self.deployment.owns(self.tree, code)

    def sees(self, *codes: str | None) -> bool:
        return self.deployment.sees_any(self.tree, *codes)

    def owned_codes(self) -> frozenset[str] | None:
        """The unit and department codes this level owns; None when it owns the whole tree
        (the single deployment: no SQL filter needed)."""
        roots = [c for c, u in self.tree.units.items() if u.parent is None]
        if not self.deployment.lower and roots == [self.deployment.scope]:
            return None
        units = {c for c in self.tree.units if self.deployment.owns(self.tree, c)}
        return frozenset(units | {d.code for u in units for d in self.tree.departments_of(u)})
