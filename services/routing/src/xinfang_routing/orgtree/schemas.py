"""The org-tree admin API, typed: the tree in use, a load's outcome, the audit."""

from __future__ import annotations

from pydantic import BaseModel, Field
from xinfang_shared.schemas import IsoDateTime


class TreeChangeRead(BaseModel):
    units_added: list[str]
    units_removed: list[str]
    departments_added: list[str]
    departments_removed: list[str]


class OrgTreeRead(BaseModel):
    """The org tree in use: its version, size, and who loaded it when."""

    version: str
    units: int
    departments: int
    version_id: int = Field(description="存储的版本号 / the stored version's id")
    loaded_by: str | None = None
    loaded_at: IsoDateTime | None = None


class OrgTreeLoadedRead(TreeChangeRead):
    """The tree just loaded and what it changed."""

    version: str
    units: int
    departments: int
    version_id: int


class AuditProblemRead(BaseModel):
    """Why a load was refused: a problem in the file (path, message) or a unit or department
    that open cases still need (code, name, open_cases)."""

    path: str | None = None
    message: str | None = None
    message_en: str | None = None
    code: str | None = None
    name: str | None = None
    open_cases: int | None = None


class AuditEntryRead(TreeChangeRead):
    """One attempt to load a tree, refused ones included."""

    id: int
    at: IsoDateTime
    actor: str
    actor_org: str
    outcome: str = Field(description="loaded | forbidden | invalid | in_use")
    version: str | None
    version_id: int | None
    forced: bool
    reason: str | None
    problems: list[AuditProblemRead] | None


class OrgTreeAuditRead(BaseModel):
    entries: list[AuditEntryRead] = Field(description="最新的在前 / newest first")
