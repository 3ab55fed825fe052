"""The registration form, pure: the fields a registrar typed → intake's ``PetitionCreate``
body, the API's field errors → the form's fields, and what the receipt shows. No I/O.

Field names are the API's field paths (``petitioners.1.id_number``), so a 422 from intake
lands beside its field. A petitioner row left empty is not sent: the rows sent are numbered
again, and :func:`errors_for_form` puts the API's errors back on the rows the registrar typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from xinfang_shared import org

CHANNELS: tuple[tuple[str, str], ...] = (
    ("visit", "来访"),
    ("letter", "来信"),
    ("phone", "来电"),
    ("online", "网上信访"),
    ("leader_mailbox", "领导信箱"),
)
CHANNEL_LABELS = dict(CHANNELS)
# when each channel's item arrived, as the registrar calls it
RECEIVED_LABELS = {
    "visit": "到访时间",
    "letter": "收信日期",
    "phone": "来电时间",
    "online": "收到时间",
    "leader_mailbox": "收到时间",
}
PETITIONER_FIELDS = ("name", "id_number", "phone", "address")
MIN_ROWS = 1
MAX_ROWS = 20  # rows the form offers; a larger group is registered by its persons count
COLLECTIVE_THRESHOLD = 5  # intake's default; GET /api/v1/registration/rules tells the real one
MAX_REPRESENTATIVES = 5  # 信访工作条例 第二十条
_ROW = re.compile(r"^petitioners\.(\d+)\.(\w+)$")
_INT = re.compile(r"^\d{1,9}$")
_DATETIME_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
LOCAL_OFFSET = "+08:00"  # the deployment's time zone (Asia/Shanghai has no summer time)


@dataclass
class Built:
    """The API body, and for each petitioner sent (by its index in the body) the form row it
    came from."""

    body: dict[str, Any]
    rows: list[int] = field(default_factory=list)


def _opt(values: Mapping[str, str], name: str) -> str | None:
    v = (values.get(name) or "").strip()
    return v or None


def _checked(values: Mapping[str, str], name: str) -> bool:
    return (values.get(name) or "").strip() in ("1", "on", "true", "yes")


def form_rows(values: Mapping[str, str]) -> int:
    """How many petitioner rows the form shows: every row typed in, at least one."""
    top = -1
    for name in values:
        m = _ROW.match(name)
        if m and int(m.group(1)) < MAX_ROWS:
            top = max(top, int(m.group(1)))
    return max(MIN_ROWS, top + 1)


def _int_or_raw(raw: str | None) -> int | str | None:
    """A whole number as a number; anything else as typed (the API says what is wrong)."""
    if raw is None:
        return None
    return int(raw) if _INT.match(raw) else raw


def received_at(raw: str | None) -> str | None:
    """``2026-05-01T09:30`` from a datetime-local field as an instant in the deployment's zone;
    a bare date (a letter's day of arrival) as that day's 09:00; anything else as typed."""
    if raw is None:
        return None
    if _DATETIME_LOCAL.match(raw):
        return (raw if len(raw) > 16 else raw + ":00") + LOCAL_OFFSET
    if re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
        return f"{raw}T09:00:00{LOCAL_OFFSET}"
    return raw


def matter_location(values: Mapping[str, str]) -> str | None:
    """The deepest place chosen in the cascade (place.1 township → place.2 village)."""
    chosen = None
    for level in (1, 2, 3):
        code = _opt(values, f"place.{level}")
        if code:
            chosen = code
    return chosen or _opt(values, "matter_location_code")


def build(values: Mapping[str, str]) -> Built:
    """The ``PetitionCreate`` body of what the registrar typed (every text trimmed; what is
    left empty is not sent; what only one channel asks for is sent for that channel only)."""
    channel = _opt(values, "channel") or "visit"
    anonymous = _checked(values, "anonymous")
    body: dict[str, Any] = {
        "channel": channel,
        "anonymous": anonymous,
        "accusation": _checked(values, "accusation"),
        "receiving_office_code": _opt(values, "receiving_office_code") or "",
        "content": (values.get("content") or "").strip(),
    }
    optional: dict[str, Any] = {
        "matter_location_code": matter_location(values),
        "matter_address": _opt(values, "matter_address"),
        "category": _opt(values, "category"),
        "title": _opt(values, "title"),
        "received_at": received_at(_opt(values, "received_at")),
        "repeat_of": _opt(values, "link_to") or _opt(values, "repeat_of"),
    }
    if channel == "letter":
        optional["letter_date"] = _opt(values, "letter_date")
    if channel == "phone":
        optional["caller_phone"] = _opt(values, "caller_phone")
    if channel == "visit":
        optional["persons"] = _int_or_raw(_opt(values, "persons"))
    body.update({k: v for k, v in optional.items() if v is not None})
    built = Built(body=body)
    if anonymous:
        return built
    people = []
    for row in range(form_rows(values)):
        person = {f: _opt(values, f"petitioners.{row}.{f}") for f in PETITIONER_FIELDS}
        if not any(person.values()):
            continue
        entry: dict[str, Any] = {k: v for k, v in person.items() if v is not None}
        entry.setdefault("name", "")
        if channel == "visit" and _checked(values, f"petitioners.{row}.representative"):
            entry["representative"] = True
        people.append(entry)
        built.rows.append(row)
    body["petitioners"] = people
    return built


def errors_for_form(errors: Mapping[str, str], rows: list[int]) -> dict[str, str]:
    """The API's errors keyed by the form's field names: a petitioner's by the row it was
    typed in, the cascade's place by its selects, a letter's sender by the first row."""
    out: dict[str, str] = {}
    for name, message in errors.items():
        m = _ROW.match(name)
        if m and int(m.group(1)) < len(rows):
            name = f"petitioners.{rows[int(m.group(1))]}.{m.group(2)}"
        elif re.match(r"^petitioners\.\d+$", name):
            index = int(name.split(".")[1])
            row = rows[index] if index < len(rows) else 0
            name = f"petitioners.{row}.name"
        elif name == "link_to":
            name = "repeat_of"
        out.setdefault(name, message)
    return out


# --- choices shown on the form (names, never codes) ------------------------------------------


def kids(tree: org.OrgTree, code: str) -> list[str]:
    """The codes of the units right below ``code``."""
    return sorted(u.code for u in tree.units.values() if u.parent == code)


def offices(tree: org.OrgTree, root: str) -> list[tuple[str, str]]:
    """The petition offices a registrar of ``root`` registers for: the unit's own and those
    of the units below it down to townships (villages have none), by name."""
    out: list[tuple[str, str]] = []

    def walk(code: str) -> None:
        unit = tree.unit(code)
        if unit is None or unit.level is org.Level.VILLAGE:
            return
        out.append((unit.code, unit.petition_office_name))
        for child in kids(tree, code):
            walk(child)

    walk(root.split("-")[0])
    return out


def unit_choices(units: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(str(u["code"]), str(u["name"])) for u in units]


def unit_of_tree(tree: org.OrgTree, code: str) -> dict[str, Any]:
    unit = tree.unit(code)
    assert unit is not None
    return {
        "code": unit.code,
        "name": unit.name,
        "level": unit.level.value,
        "level_label": org.LEVEL_LABELS[unit.level],
        "has_children": bool(kids(tree, code)),
    }


def children_of_tree(tree: org.OrgTree, parent: str) -> list[dict[str, Any]]:
    """What routing's GET /api/v1/org/units?parent= answers, from the workbench's copy of the
    tree (names to choose from only; where a case goes is routing's decision)."""
    return [unit_of_tree(tree, c) for c in kids(tree, parent)]


def category_choices(categories: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """routing's categories by name (the value sent is the code: intake takes either)."""
    return [(str(c["code"]), str(c["name"])) for c in categories]


def suggestion_of(classified: Mapping[str, Any]) -> dict[str, Any]:
    """routing's POST /api/v1/classify answer as the form shows it, without codes except the
    value the 采用 button puts in the category field."""
    suggestions = [
        {
            "code": str(s.get("category") or ""),
            "name": str(s.get("name") or ""),
            "percent": round(float(s.get("probability") or 0) * 100),
        }
        for s in classified.get("suggestions") or []
        if s.get("name")
    ]
    if classified.get("abstain") or not classified.get("category"):
        text = "系统无把握识别类别，将转人工分办" + (
            "；可能是：" + "、".join(f"{s['name']}（{s['percent']}%）" for s in suggestions)
            if suggestions
            else ""
        )
    else:
        text = f"系统建议类别：{classified.get('category_name') or ''}"
    notes = []
    if classified.get("accusation"):
        notes.append("内容像检举控告：将按检举控告登记，检举人身份加密保存")
    if classified.get("legal"):
        notes.append("涉法涉诉：将按诉访分离转政法渠道")
    return {
        "text": text,
        "category": classified.get("category") or "",
        "category_name": classified.get("category_name") or "",
        "suggestions": suggestions,
        "notes": notes,
    }


def open_cases(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """intake's open cases of a petitioner (the duplicate warning), one per case."""
    seen: dict[str, dict[str, Any]] = {}
    for item in items:
        key = str(item.get("case_number") or item.get("case_id") or "")
        if key and key not in seen:
            seen[key] = item
    return list(seen.values())


def duplicate_keys(values: Mapping[str, str]) -> list[tuple[str, str]]:
    """Which petitioner identities to look up before registering: (``id_number``|``phone``,
    value) for each row typed, unless the registrar already linked the item or went on."""
    if _checked(values, "dup_ok") or _opt(values, "link_to") or _opt(values, "repeat_of"):
        return []
    if _checked(values, "anonymous"):
        return []
    keys: list[tuple[str, str]] = []
    for row in range(form_rows(values)):
        id_number = (_opt(values, f"petitioners.{row}.id_number") or "").upper()
        if id_number and id_number_problem(id_number) is None:
            keys.append(("id_number", id_number))
        elif phone := _opt(values, f"petitioners.{row}.phone"):
            keys.append(("phone", phone))
    return list(dict.fromkeys(keys))


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_problem(value: str, *, today: date | None = None) -> str | None:
    """GB 11643 as ``static/register.js`` checks it while typing (intake decides)."""
    v = value.strip().upper()
    if not re.match(r"^\d{17}[\dX]$", v):
        return "身份证号码应为18位（最后一位可为X）"
    try:
        born = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    if born.year < 1900 or born > (today or date.today()):
        return "身份证号码中的出生日期无效"
    total = sum(int(d) * w for d, w in zip(v[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != v[17]:
        return "身份证号码校验位错误"
    return None


# --- the receipt ------------------------------------------------------------------------------


def receipt(
    created: Mapping[str, Any], status: Mapping[str, Any] | None, *, channel: str, office: str
) -> dict[str, Any]:
    """What the printed 回执 shows: intake's 201 answer, and the deadlines once supervision
    opened the case (GET /api/v1/petitions/{query_code})."""
    deadlines = list((status or {}).get("deadlines") or [])
    received = created.get("received_at")
    return {
        "case_id": created.get("case_id"),
        "case_number": created.get("case_number"),
        "query_code": created.get("query_code"),
        "status_label": (status or {}).get("status_label") or created.get("status_label"),
        "received_at": datetime.fromisoformat(str(received)) if received else None,
        "channel_label": CHANNEL_LABELS.get(channel, ""),
        "office": office or (status or {}).get("receiving_office") or "",
        "handling_unit": (status or {}).get("handling_unit") or "",
        "collective": bool(created.get("collective")),
        "informant_sealed": bool(created.get("informant_sealed")),
        "deadlines": [
            {"label": d.get("label"), "due": d.get("due_date_label") or d.get("due_date")}
            for d in deadlines
        ],
        "next_step": (status or {}).get("next_step") or "",
    }
