"""Text a person typed: what may be stored, shown and written to an audit log.

Every free-text field of every API goes through one of these types. Refused, with a reason in
Chinese and English (the ``zh`` context of the error is what the platform's 422 body shows):

- NUL and the other C0/C1 control characters (PostgreSQL cannot store NUL; the others make no
  sense in a name or a letter and can hide text in logs); ``MultiLine`` allows tab, LF and CR;
- text made only of invisible characters (zero-width spaces and joiners, bidi marks and
  overrides, BOM): a "name" that prints as nothing, or that reorders the audit line around it;
- bidi override and isolate controls anywhere in a single-line value (U+202A–U+202E,
  U+2066–U+2069): they make a name read differently from what is stored.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_ALLOWED_IN_MULTILINE = frozenset("\t\n\r")
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _is_invisible(ch: str) -> bool:
    # Cf: format characters (zero-width space/joiners, bidi marks, BOM, soft hyphen…)
    return unicodedata.category(ch) == "Cf" or ch.isspace()


def text_problem(value: str, *, multiline: bool = False) -> tuple[str, str, str] | None:
    """(code, zh, en) of what is wrong with ``value``, or None when it may be stored."""
    for ch in value:
        if _is_control(ch) and not (multiline and ch in _ALLOWED_IN_MULTILINE):
            return (
                "control_character",
                f"含有不可见的控制字符（U+{ord(ch):04X}），请删除后重新提交",
                f"contains a control character (U+{ord(ch):04X}); remove it",
            )
        if not multiline and ch in _BIDI_CONTROLS:
            return (
                "bidi_control",
                f"含有改变文字方向的控制字符（U+{ord(ch):04X}），请删除后重新提交",
                f"contains a text-direction control character (U+{ord(ch):04X}); remove it",
            )
    if value and all(_is_invisible(ch) for ch in value):
        return (
            "invisible_text",
            "只含有空白或不可见字符，请填写可见的文字",
            "contains only blank or invisible characters",
        )
    return None


def check_text(value: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or a pydantic error the platform's 422 body can show in Chinese."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        code, zh, en = problem
        raise PydanticCustomError(code, en, {"zh": zh})
    return value


def _single(value: str) -> str:
    return check_text(value, multiline=False)


def _multi(value: str) -> str:
    return check_text(value, multiline=True)


SingleLine = Annotated[str, AfterValidator(_single)]
"""A name, code, reason or title: no control characters, no bidi controls, not only invisible."""

MultiLine = Annotated[str, AfterValidator(_multi)]
"""A letter's content or a reply: as SingleLine, but tab and line breaks are allowed."""
