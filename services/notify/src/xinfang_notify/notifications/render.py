"""Render a message's title and body from its Jinja2 template, in the reader's locale with
zh-CN, then English, as fallbacks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, TemplateNotFound
from xinfang_shared.timeutil import SHANGHAI

LOCALES = ("zh-CN", "en")


def _local(v: datetime) -> datetime:
    return v.astimezone(SHANGHAI)


def _cn_date(v: date | datetime) -> str:
    return f"{v:%Y年%m月%d日}"


def _cn_time(v: datetime) -> str:
    return f"{_local(v):%m月%d日%H:%M}"


def _en_date(v: date | datetime) -> str:
    return f"{v:%d %b %Y}"


def _en_time(v: datetime) -> str:
    return f"{_local(v):%d %b %H:%M}"


_TERMINAL = "。．.！!？?；;…"


def _clause(v: object) -> str:
    """Text the template ends with its own full stop: without one of its own (no 。。)."""
    return str(v).rstrip().rstrip(_TERMINAL).rstrip()


class Renderer:
    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("xinfang_notify", "templates"),
            undefined=StrictUndefined,
            autoescape=False,  # plain text: robots and SMS, not HTML
            keep_trailing_newline=False,
        )
        self.env.filters.update(
            cn_date=_cn_date,
            cn_time=_cn_time,
            en_date=_en_date,
            en_time=_en_time,
            clause=_clause,
        )

    def render(self, kind: str, ctx: dict[str, Any], locale: str = "zh-CN") -> tuple[str, str]:
        """(title, body) of ``kind`` in ``locale``; zh-CN then en when it has no template."""
        tried = [locale, *(x for x in LOCALES if x != locale)]
        for loc in tried:
            try:
                tmpl = self.env.get_template(f"{loc}/{kind}.j2")
            except TemplateNotFound:
                continue
            context = tmpl.new_context(ctx)
            title = "".join(tmpl.blocks["title"](context)).strip()
            body = "".join(tmpl.blocks["body"](context)).strip()
            return title, body
        raise TemplateNotFound(f"{kind} (locales {tried})")
