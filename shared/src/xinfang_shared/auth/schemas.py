"""What the auth endpoints read and return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from xinfang_shared.auth.models import DISPLAY_NAME_MAX, USERNAME_MAX, Role
from xinfang_shared.text import SingleLine


class UserCreate(BaseModel):
    username: SingleLine = Field(
        max_length=USERNAME_MAX, description="3–32 位小写字母、数字或 . _ -，以字母开头"
    )
    display_name: SingleLine = Field(max_length=DISPLAY_NAME_MAX, description="姓名 / display name")
    password: SingleLine = Field(
        max_length=128, description="至少 8 个字符 / at least 8 characters"
    )
    role: Role
    org_code: SingleLine = Field(
        max_length=40, description="所属单位或部门代码 / unit or department code"
    )


class UserUpdate(BaseModel):
    """Only the fields sent change. Disabling the account, a new password or a new role revoke
    every token issued to it so far, at every service."""

    active: bool | None = Field(default=None, description="启用 / 停用（离职、调岗）")
    password: SingleLine | None = Field(default=None, max_length=128, description="重置密码")
    role: Role | None = None
    display_name: SingleLine | None = Field(default=None, max_length=DISPLAY_NAME_MAX)


class UserRead(BaseModel):
    username: str
    name: str
    role: Role
    role_label: str
    org_code: str
    org_name: str
    active: bool
    created_at: datetime


class PrincipalRead(BaseModel):
    username: str
    name: str
    role: Role
    role_label: str
    org_code: str
    org_name: str
    kind: Literal["user", "service"] = "user"


class TokenRead(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="有效期（秒） / seconds until the token expires")
    user: PrincipalRead
