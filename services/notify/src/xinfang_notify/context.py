"""What notify tells with, shared by its domains: the org tree, the directory, the templates,
the public addresses and the alert timings; and the states of a delivery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from xinfang_shared import org
from xinfang_shared.levels import Deployment

from xinfang_notify.delivery import reminders
from xinfang_notify.directory import Directory
from xinfang_notify.notifications.render import Renderer

SOURCE = "/xinfang/notify"
PENDING, SENT, DEAD, SKIPPED = "pending", "sent", "dead", "skipped"  # a delivery's status


@dataclass
class NotifyContext:
    tree: org.OrgTree
    directory: Directory
    renderer: Renderer
    public_url: str
    intake_public_url: str
    ack_timeout: timedelta
    sms_templates: dict[str, str] = field(default_factory=dict)
    deployment: Deployment = field(default_factory=lambda: Deployment("339900"))
    # reminders of an unacknowledged alert at the top of the tree (see reminders.py)
    reminder_points: tuple[timedelta, ...] = field(
        default_factory=lambda: reminders.schedule([1, 4, 24], 24, 7)
    )

    def is_top(self, code: str) -> bool:
        unit = self.tree.unit(code)
        return unit is not None and unit.parent is None

    def first_due(self, unit_code: str, since: datetime) -> datetime | None:
        """When an alert that reached ``unit_code`` at ``since`` is next due: one level up
        after the acknowledgement time, or, at the top, the first reminder."""
        if self.is_top(unit_code):
            return reminders.next_point(since, 0, self.reminder_points)
        return since + self.ack_timeout

    def serves(self, code: str | None) -> bool:
        """This level's notify tells the people of ``code`` (one level per unit: no person is
        told twice however many levels read the event)."""
        if code is None:
            return not self.deployment.lower
        return self.deployment.owns(self.tree, code)
