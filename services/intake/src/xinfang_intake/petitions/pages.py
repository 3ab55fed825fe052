"""The petitioner's status page (信访事项办理进度查询): Jinja2 templates (``templates/``) and a
stylesheet served by intake (``static/``), with no inline script or style, so the pages work
under a strict Content-Security-Policy."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from xinfang_shared.runtime import RuntimeDep, SessionDep
from xinfang_shared.timeutil import SHANGHAI, local_date

from xinfang_intake.petitions import service
from xinfang_intake.petitions.schemas import PetitionStatusRead

router = APIRouter(prefix="/cx", tags=["petitioner 信访人"], include_in_schema=False)

CSP = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
STATIC = {"cx.css": "text/css; charset=utf-8"}  # every file under static/ that is served
NOT_FOUND = "查询码不存在，请核对后重试。"
MALFORMED = "查询码格式不正确：应为登记时告知的 10 位字母和数字，请核对后重试。"


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("xinfang_intake", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )


def _page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = _templates().get_template(template).render(**context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"},
    )


def _when(dt: Any) -> str:
    return str(dt.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M"))


def status_context(s: PetitionStatusRead) -> dict[str, Any]:
    """What the status template shows, formatted for a person (pure)."""
    return {
        "title": f"办理进度 {s.case_number}",
        "s": s,
        "received": _when(s.received_at),
        "history": [
            {"at": _when(h.at), "label": h.status_label, "note": h.note} for h in s.history
        ],
    }


@router.get("", response_class=HTMLResponse)
async def lookup_form() -> HTMLResponse:
    return _page("lookup.html", title="信访事项办理进度查询", message="")


@router.get("/static/{name}")
async def static_file(name: Annotated[str, Path(max_length=40)]) -> Response:
    if name not in STATIC:
        return Response(status_code=404)
    body = resources.files("xinfang_intake").joinpath("static", name).read_bytes()
    return Response(
        body, media_type=STATIC[name], headers={"Cache-Control": "public, max-age=3600"}
    )


@router.get("/lookup", response_model=None)
async def lookup(code: Annotated[str, Query(max_length=32)] = "") -> Response:
    wanted = code.strip().upper()
    if not service.is_query_code(wanted):
        return _page("lookup.html", status=404, title="未找到", message=MALFORMED)
    return RedirectResponse(f"/cx/{quote(wanted)}", status_code=303)


@router.get("/{query_code}", response_class=HTMLResponse)
async def status_page(query_code: str, session: SessionDep, rt: RuntimeDep) -> HTMLResponse:
    if not service.is_query_code(query_code.upper()):
        return _page("lookup.html", status=404, title="未找到", message=NOT_FOUND)
    try:
        s = await service.get_status_by_query_code_or_raise(
            session=session, query_code=query_code, today=local_date(rt.clock.now())
        )
    except service.PetitionNotFound:
        return _page("lookup.html", status=404, title="未找到", message=NOT_FOUND)
    return _page("status.html", **status_context(s))
