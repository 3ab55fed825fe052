"""Deadline rule profiles (data/profiles.yaml) and due-date arithmetic, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources

import yaml
from xinfang_shared.workdays import BUILT_IN, WorkCalendar

from xinfang_supervision.deadlines import period_end

KINDS = (
    "triage",
    "acceptance_notice",
    "handling",
    "max_extension",
    "review_request_window",
    "review_answer",
    "rereview_request_window",
    "rereview_answer",
    "supervision_feedback",
)


@dataclass(frozen=True)
class Limit:
    kind: str
    days: int
    working: bool
    label: str
    basis: str

    def due(self, start: date, extra_days: int = 0, *, calendar: WorkCalendar = BUILT_IN) -> date:
        """The last day of the period that starts the day after ``start`` (see
        :func:`xinfang_supervision.deadlines.period_end`, the rule)."""
        return period_end(self, start, extra_days, calendar=calendar)


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    limits: dict[str, Limit]

    def __getitem__(self, kind: str) -> Limit:
        return self.limits[kind]


class ProfileError(ValueError):
    pass


def parse(doc: dict[str, dict[str, object]]) -> dict[str, Profile]:
    profiles = {}
    for code, raw in doc.items():
        limits = {}
        for kind in KINDS:
            spec = raw.get(kind)
            if (
                not isinstance(spec, dict)
                or not isinstance(spec.get("days"), int)
                or spec["days"] <= 0
            ):
                raise ProfileError(f"profile {code}: {kind} needs a positive number of days")
            unit = spec.get("unit", "calendar")
            if unit not in ("calendar", "working"):
                raise ProfileError(f"profile {code}: {kind} unit must be calendar or working")
            limits[kind] = Limit(
                kind,
                spec["days"],
                unit == "working",
                str(spec.get("label", kind)),
                str(spec.get("basis", "")),
            )
        profiles[code] = Profile(code, str(raw.get("name", code)), limits)
    return profiles


@lru_cache(maxsize=1)
def default_profiles() -> dict[str, Profile]:
    text = (
        resources.files("xinfang_supervision")
        .joinpath("data/profiles.yaml")
        .read_text(encoding="utf-8")
    )
    return parse(yaml.safe_load(text))
