"""The petitioner's status page (信访事项办理进度查询), server-rendered HTML in Chinese."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse
from xinfang_shared.runtime import SessionDep
from xinfang_shared.timeutil import SHANGHAI

from xinfang_intake.petitions import service
from xinfang_intake.petitions.schemas import PetitionStatusRead

router = APIRouter(prefix="/cx", tags=["petitioner 信访人"], include_in_schema=False)

STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f6f9;color:#222}
main{max-width:760px;margin:2rem auto;background:#fff;padding:1.5rem 2rem;border-radius:8px}
h1{font-size:1.4rem;margin-top:0} .muted{color:#666;font-size:.9rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem} td,th{border-bottom:1px solid #e5e5e5;padding:.45rem;text-align:left}
.next{background:#eef6ff;border-left:4px solid #2b6cb0;padding:.7rem 1rem;margin:1rem 0}
.open{color:#b7791f} .met{color:#2f855a} ol{padding-left:1.2rem} li{margin:.35rem 0}
input{font-size:1rem;padding:.4rem;width:14rem} button{font-size:1rem;padding:.4rem 1rem}
"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
        f"<body><main>{body}</main></body></html>",
        status_code=status,
    )


def _form(message: str = "") -> str:
    note = f'<p class="muted">{escape(message)}</p>' if message else ""
    return (
        "<h1>信访事项办理进度查询</h1>"
        '<form method="get" action="/cx/lookup"><label>查询码 <input name="code" maxlength="16" '
        'autocomplete="off" required></label> <button type="submit">查询</button></form>' + note
    )


@router.get("", response_class=HTMLResponse)
async def lookup_form() -> HTMLResponse:
    return _page("信访事项办理进度查询", _form())


@router.get("/lookup")
async def lookup(code: Annotated[str, Query(max_length=32)]) -> RedirectResponse:
    return RedirectResponse(f"/cx/{escape(code.strip().upper())}", status_code=303)


def _cn_date(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{y}年{m}月{d}日"


def render(s: PetitionStatusRead) -> str:
    def t(dt: object) -> str:
        return (
            dt.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")
            if hasattr(dt, "astimezone")
            else str(dt)
        )

    rows = "".join(
        f'<tr><td>{escape(d.label)}</td><td>{escape(_cn_date(d.due_date))}</td><td class="{escape(d.status)}">{escape(d.status_label)}</td></tr>'
        for d in s.deadlines
    )
    deadlines = (
        f"<h2>办理期限</h2><table><tr><th>事项</th><th>期限</th><th>状态</th></tr>{rows}</table>"
        if rows
        else ""
    )
    nxt = (
        f'<div class="next"><strong>下一步：</strong>{escape(s.next_step)}</div>'
        if s.next_step
        else ""
    )
    hist = "".join(
        f"<li>{t(h.at)}　{escape(h.status_label)}{('：' + escape(h.note)) if h.note else ''}</li>"
        for h in s.history
    )
    return (
        f"<h1>信访事项办理进度</h1>"
        f'<p class="muted">信访件编号 {escape(s.case_number)} · {escape(s.channel_label)} · 收到时间 {t(s.received_at)}</p>'
        f"<p>登记机关：{escape(s.receiving_office)}<br>当前状态：<strong>{escape(s.status_label)}</strong>"
        f"{'<br>承办单位：' + escape(s.handling_unit) if s.handling_unit else ''}</p>"
        f"{nxt}{deadlines}<h2>办理记录</h2><ol>{hist}</ol>"
        '<p class="muted">如对办理情况有疑问，可凭查询码向登记机关咨询。</p>'
    )


@router.get("/{query_code}", response_class=HTMLResponse)
async def status_page(query_code: str, session: SessionDep) -> HTMLResponse:
    try:
        s = await service.get_status_by_query_code_or_raise(
            session=session, query_code=query_code[:16]
        )
    except service.PetitionNotFound:
        return _page("未找到", _form("查询码不存在，请核对后重试。"), status=404)
    return _page(f"办理进度 {s.case_number}", render(s))
