"""The demo org tree (administrative divisions of the fictional 江临市) used until the org tree
becomes loadable data (issue #3). Codes follow the national scheme: 6 digits for city and
county/district, 9 for township/street, 12 for village/community.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


LEVEL_LABELS = {
    Level.CITY: "市",
    Level.COUNTY: "县（区）",
    Level.TOWNSHIP: "乡镇（街道）",
    Level.VILLAGE: "村（社区）",
}


@dataclass(frozen=True)
class OrgUnit:
    code: str
    name: str
    level: Level
    parent: str | None

    @property
    def petition_office_name(self) -> str:
        """The unit's petition office: 信访局 at city/county level, 信访办 below."""
        if self.level in (Level.CITY, Level.COUNTY):
            return f"{self.name}信访局"
        return f"{self.name}信访办"


_UNITS = [
    OrgUnit("339900", "江临市", Level.CITY, None),
    OrgUnit("339902", "临江区", Level.COUNTY, "339900"),
    OrgUnit("339922", "清河县", Level.COUNTY, "339900"),
    OrgUnit("339902001", "滨江街道", Level.TOWNSHIP, "339902"),
    OrgUnit("339902002", "望江街道", Level.TOWNSHIP, "339902"),
    OrgUnit("339922101", "清河镇", Level.TOWNSHIP, "339922"),
    OrgUnit("339922102", "柳塘乡", Level.TOWNSHIP, "339922"),
    OrgUnit("339922103", "石门镇", Level.TOWNSHIP, "339922"),
    OrgUnit("339902001001", "滨江社区", Level.VILLAGE, "339902001"),
    OrgUnit("339922101201", "东岗村", Level.VILLAGE, "339922101"),
    OrgUnit("339922102201", "柳树湾村", Level.VILLAGE, "339922102"),
    OrgUnit("339922103201", "石门村", Level.VILLAGE, "339922103"),
]

UNITS: dict[str, OrgUnit] = {u.code: u for u in _UNITS}


def get_unit(code: str) -> OrgUnit | None:
    return UNITS.get(code)


def receiving_offices() -> list[OrgUnit]:
    """Units that run a petition office (every level above the village)."""
    return [u for u in _UNITS if u.level is not Level.VILLAGE]
