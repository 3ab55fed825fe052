"""What text the platform refuses to store: control characters, invisible-only and bidi tricks."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError
from xinfang_shared.text import MultiLine, SingleLine, text_problem


class Form(BaseModel):
    name: SingleLine
    content: MultiLine


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("张\x00三", "control_character"),
        ("张三\x1b[31m", "control_character"),
        ("\u200b\u200c\u200d", "invisible_text"),
        ("\u202e三张", "bidi_control"),
        ("  \ufeff ", "invisible_text"),
    ],
)
def test_single_line_refuses(value: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        Form(name=value, content="正文")
    error = info.value.errors()[0]
    assert error["type"] == code
    assert "zh" in error["ctx"]  # the platform's 422 shows the Chinese reason


def test_ordinary_text_passes_and_content_keeps_line_breaks() -> None:
    form = Form(name="欧阳·娜娜", content="第一段。\n\t第二段。\r\n")
    assert form.content.endswith("\r\n")
    assert text_problem("O'Brien-李") is None


def test_content_refuses_nul_but_not_newlines() -> None:
    with pytest.raises(ValidationError):
        Form(name="张三", content="正文\x00")
    assert text_problem("甲\n乙", multiline=True) is None
    assert text_problem("甲\n乙") is not None
