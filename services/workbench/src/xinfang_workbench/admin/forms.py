"""管理, pure: the account forms → intake's /api/v1/users bodies, the org-tree loader's
problems → where in the file and what, in Chinese. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from xinfang_shared import org
from xinfang_shared.auth.models import PERSON_ROLES, ROLE_LABELS, Role

ROLE_CHOICES: tuple[tuple[str, str], ...] = tuple((r.value, ROLE_LABELS[r]) for r in PERSON_ROLES)
ACTIONS = ("disable", "enable", "password", "role")
OUTCOME_LABELS = {
    "loaded": "已加载",
    "forbidden": "无权加载",
    "invalid": "校验失败，未修改",
    "in_use": "涉及在办案件，未修改",
}


def _get(values: Mapping[str, str], name: str) -> str:
    return (values.get(name) or "").strip()


def create_body(values: Mapping[str, str]) -> dict[str, Any]:
    """POST /api/v1/users: every field as typed (intake checks them; the password untrimmed)."""
    return {
        "username": _get(values, "username"),
        "display_name": _get(values, "display_name"),
        "password": values.get("password") or "",
        "role": _get(values, "role"),
        "org_code": _get(values, "org_code"),
    }


def patch_body(action: str, values: Mapping[str, str]) -> dict[str, Any] | None:
    """PATCH /api/v1/users/{username} for one of the row's buttons; None for an unknown one."""
    if action == "disable":
        return {"active": False}
    if action == "enable":
        return {"active": True}
    if action == "password":
        return {"password": values.get("password") or ""}
    if action == "role":
        return {"role": _get(values, "role")}
    return None


DONE = {
    "created": "已创建账号 {u}，可以用设定的密码登录",
    "disable": "已停用账号 {u}：其登录立即失效",
    "enable": "已启用账号 {u}",
    "password": "已重置账号 {u} 的密码：其原有登录立即失效",
    "role": "已变更账号 {u} 的角色：其原有登录立即失效",
}


def done_message(action: str, username: str) -> str:
    template = DONE.get(action)
    return template.format(u=username) if template else ""


def user_rows(users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """intake's accounts as the table shows them (names and labels, no codes), active first."""
    rows = [
        {
            "username": u.get("username"),
            "name": u.get("name"),
            "role": u.get("role"),
            "role_label": u.get("role_label") or ROLE_LABELS.get(Role(u["role"]), ""),
            "org_name": u.get("org_name") or "",
            "active": bool(u.get("active")),
            "state_label": "在用" if u.get("active") else "已停用",
            "created_at": u.get("created_at"),
        }
        for u in users
    ]
    rows.sort(key=lambda r: (not r["active"], str(r["username"])))
    return rows


def org_choices(tree: org.OrgTree, root: str) -> list[tuple[str, str]]:
    """Where an account may belong, by name: the admin's unit and the units below it (down
    to townships), each followed by its departments."""
    out: list[tuple[str, str]] = []

    def walk(code: str, depth: int) -> None:
        unit = tree.unit(code)
        if unit is None or unit.level is org.Level.VILLAGE:
            return
        indent = "　" * depth
        out.append((unit.code, f"{indent}{unit.name}"))
        for d in sorted(tree.departments_of(code), key=lambda d: d.code):
            out.append((d.code, f"{indent}　· {d.name}"))
        for child in sorted(u.code for u in tree.units.values() if u.parent == code):
            walk(child, depth + 1)

    walk(root.split("-")[0], 0)
    return out


# --- the org tree's problems --------------------------------------------------------------------

_SECTIONS = {"units": "单位", "departments": "部门", "lower": "下级部署"}
_KEYS = {
    "code": "代码",
    "name": "名称",
    "parent": "上级单位",
    "level": "层级",
    "kind": "类型",
    "unit": "所属单位",
    "competences": "职责范围",
    "aliases": "别名",
    "version": "版本",
    "reason": "理由",
}
_STEP = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def problem_place(path: str) -> str:
    """``units[3].parent`` → 第 4 个单位 · 上级单位; ``$`` → 整个文件."""
    if path in ("", "$"):
        return "整个文件"
    parts = []
    for step in path.split("."):
        m = _STEP.match(step)
        if m is None:
            parts.append(step)
            continue
        key, index = m.group(1), m.group(2)
        if key in _SECTIONS:
            label = _SECTIONS[key]
            parts.append(f"第 {int(index) + 1} 个{label}" if index is not None else label)
        else:
            label = _KEYS.get(key, key)
            parts.append(f"{label}第 {int(index) + 1} 项" if index is not None else label)
    return " · ".join(parts)


def tree_problems(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """The loader's 422 ``problems`` (or a 409's ``holding``) as rows: where, and why."""
    out = []
    for p in body.get("problems") or []:
        if isinstance(p, dict):
            out.append(
                {"where": problem_place(str(p.get("path") or "")), "message": str(p["message"])}
            )
    for h in body.get("holding") or []:
        if isinstance(h, dict):
            name = h.get("name") or h.get("unit_name") or h.get("code") or ""
            count = h.get("open_cases") or h.get("cases") or ""
            out.append(
                {
                    "where": str(name),
                    "message": f"仍有 {count} 件在办案件" if count else "仍有在办案件",
                }
            )
    return out


def audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "at": e.get("at"),
            "actor": e.get("actor") or "",
            "outcome_label": OUTCOME_LABELS.get(str(e.get("outcome")), "其他"),
            "version": e.get("version") or "",
            "problems": len(e.get("problems") or []),
        }
        for e in entries
    ]
