"""统计 (every staff role): the figures with 同比 and their charts, the 台账 (registration
ledger) and the 积案 ledger with their exports, and the periodic report. Every figure, row and
file is the reports service's (called as the user, so its scope rules decide what is counted);
an export is passed on to the browser chunk by chunk as the service makes it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.scope import unit_of
from xinfang_shared.timeutil import SHANGHAI

from xinfang_workbench.api import Download, NotFound, Refused, Unavailable
from xinfang_workbench.deps import Workbench, WorkbenchDep, role_user
from xinfang_workbench.session import User
from xinfang_workbench.stats import charts, forms, report

router = APIRouter(include_in_schema=False)
STAFF = (Role.REGISTRAR, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN)
StaffDep = Annotated[User, Depends(role_user(*STAFF))]
REPORTS = "reports"
EXPORTS = ("xlsx", "csv")
# the charts by a breakdown: (by, the filter a bar sets, chart title)
BY_FILTER = (
    ("category", "category", "按问题类别"),
    ("place", "place", "按发生地"),
    ("handling", "handling", "按承办单位"),
)


def today() -> date:
    return datetime.now(SHANGHAI).date()


@dataclass
class Problem:
    """Why the page has no figures: the reports service's 422 (beside the filter form, each
    field's message by its field) or its absence."""

    message: str
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200


async def fetch(call: Awaitable[Any]) -> tuple[Any, Problem | None]:
    try:
        return await call, None
    except NotFound:
        return None, Problem("所选单位或地区不存在或不在您的管辖范围内", {}, 404)
    except Refused as exc:
        return None, Problem(exc.message, forms.form_errors(exc.errors), exc.status)
    except Unavailable as exc:
        return None, Problem(exc.message, {}, 503)


async def _codes(user: User, path: str, **params: Any) -> list[tuple[str, str]]:
    rows, _ = await fetch(user.api.get("routing", path, **params))
    return [(str(r["code"]), str(r["name"])) for r in rows or [] if isinstance(r, dict)]


async def filter_options(
    wb: Workbench, user: User, query: forms.StatsQuery
) -> dict[str, list[tuple[str, str]]]:
    """The filter form's choices by name: routing's categories, the unit's townships (places),
    its departments and townships (handling bodies). A code in the address that is not among
    them (a village from a chart's drill-down) is offered by its name."""
    unit = unit_of(wb.tree, user.principal.org_code) or user.principal.org_code
    categories, places, departments = await asyncio.gather(
        _codes(user, "/api/v1/categories"),
        _codes(user, "/api/v1/org/units", parent=unit),
        _codes(user, "/api/v1/org/departments", unit=unit),
    )
    options = {
        "preset": list(forms.PRESETS),
        "channel": list(forms.CHANNELS),
        "kind": list(forms.KINDS),
        "category": categories,
        "place": places,
        "handling": departments + places,
    }
    for name in ("place", "handling"):
        value = getattr(query, name)
        if value and value not in dict(options[name]):
            options[name] = [(value, wb.pages.org_name(value)), *options[name]]
    return options


def _page(
    wb: Workbench, request: Request, name: str, user: User, problem: Problem | None, **ctx: Any
) -> HTMLResponse:
    return wb.pages.render(
        request,
        name,
        user=user,
        status=problem.status if problem else 200,
        problem=problem,
        **ctx,
    )


def _chart_rows(rows: list[dict[str, Any]], query: forms.StatsQuery, filter_name: str) -> Any:
    out = []
    for r in rows:
        key = str(r.get("key") or "")
        name = str(r.get("name") or "") or ("未注明" if not key else "其他")
        href = query.href("/stats/ledger", **{filter_name: key}) if key else ""
        out.append(charts.Row(name, int(r.get("items") or 0), href))
    return out


async def _charts(user: User, query: forms.StatsQuery, summary: dict[str, Any]) -> list[Any]:
    """The trend (January to the period's end, against the year before) and the breakdowns of
    the period, each a chart; one that failed says why in its place."""
    period = summary.get("period") or {}
    end = forms.parse_date(period.get("to")) or today()
    filters = query.filter_params(measure=False)
    span = {"from": period.get("from"), "to": period.get("to")}
    calls = [
        user.api.get(
            REPORTS,
            "/api/v1/stats/breakdown",
            by="month",
            **{"from": date(end.year, 1, 1).isoformat(), "to": end.isoformat()},
            **filters,
        )
    ]
    for by, _, _ in BY_FILTER:
        within = query.place if by == "place" else None
        calls.append(
            user.api.get(
                REPORTS, "/api/v1/stats/breakdown", by=by, within=within, **span, **filters
            )
        )
    answers = await asyncio.gather(*(fetch(c) for c in calls))
    (months, failed), rest = answers[0], answers[1:]
    drawn: list[Any] = []
    if months is None:
        drawn.append(
            charts.Chart(
                "trend",
                "各月信访件次",
                "",
                0,
                0,
                (),
                (),
                (),
                empty=failed.message if failed else "",
            )
        )
    else:
        points = charts.month_points(forms.rows_of(months), end)

        def link(start: date, stop: date) -> str:
            return query.period_href("/stats/ledger", start, stop)

        drawn.append(charts.trend("trend", points, link))
    for (by, filter_name, title), (answer, failed) in zip(BY_FILTER, rest, strict=True):
        chart_title = f"{title}（本期件次）"
        if answer is None:
            message = failed.message if failed else "没有数据"
            drawn.append(charts.Chart(f"by-{by}", chart_title, "", 0, 0, (), (), (), empty=message))
            continue
        rows = _chart_rows(forms.rows_of(answer), query, filter_name)
        wide = by == "handling"
        drawn.append(
            charts.hbar(
                f"by-{by}",
                chart_title,
                rows,
                width=1200 if wide else 600,
                label_width=260 if wide else 150,
            )
        )
    return drawn


@router.get("/stats", response_class=HTMLResponse)
async def stats(request: Request, wb: WorkbenchDep, user: StaffDep) -> Response:
    query = forms.stats_query(request.query_params)
    options, (summary, problem) = await asyncio.gather(
        filter_options(wb, user, query),
        fetch(
            user.api.get(
                REPORTS, "/api/v1/stats/summary", **query.api_params(today(), measure=False)
            )
        ),
    )
    drawn = await _charts(user, query, summary) if summary else []
    return _page(
        wb,
        request,
        "stats.html",
        user,
        problem,
        query=query,
        values=query.form_values(),
        options=options,
        summary=summary,
        figures=forms.figure_rows(summary, query) if summary else [],
        charts=drawn,
        period_text=forms.period_text,
    )


@router.get("/stats/ledger", response_class=HTMLResponse)
async def ledger(request: Request, wb: WorkbenchDep, user: StaffDep) -> Response:
    query = forms.stats_query(request.query_params)
    options, (page, problem) = await asyncio.gather(
        filter_options(wb, user, query),
        fetch(user.api.get(REPORTS, "/api/v1/ledger/items", **forms.ledger_params(query, today()))),
    )
    return _page(
        wb,
        request,
        "stats_ledger.html",
        user,
        problem,
        query=query,
        values=query.form_values(),
        options=options,
        page=page,
        rows=forms.page_rows(page, forms.LEDGER_FIELDS),
        paging=forms.paging(int((page or {}).get("total") or 0), query.page),
        title=forms.ledger_title(query),
        flags=forms.flags,
    )


@router.get("/stats/backlog", response_class=HTMLResponse)
async def backlog(request: Request, wb: WorkbenchDep, user: StaffDep) -> Response:
    query = forms.stats_query(request.query_params, default_preset=forms.ALL_BACKLOG[0])
    options, (page, problem) = await asyncio.gather(
        filter_options(wb, user, query),
        fetch(
            user.api.get(REPORTS, "/api/v1/ledger/backlog", **forms.ledger_params(query, today()))
        ),
    )
    options["preset"] = [forms.ALL_BACKLOG, *forms.PRESETS]
    return _page(
        wb,
        request,
        "stats_backlog.html",
        user,
        problem,
        query=query,
        values=query.form_values(),
        options=options,
        page=page,
        rows=forms.page_rows(page, forms.BACKLOG_FIELDS),
        paging=forms.paging(int((page or {}).get("total") or 0), query.page),
    )


@router.get("/stats/report", response_class=HTMLResponse)
async def periodic(request: Request, wb: WorkbenchDep, user: StaffDep) -> Response:
    now = today()
    rq = report.report_query(request.query_params, now)
    found, problem = await fetch(
        user.api.get(REPORTS, "/api/v1/reports/periodic", **rq.api_params())
    )
    doc = found or {}
    period = doc.get("period") or {}
    end = forms.parse_date(period.get("to"))
    trend = None
    if end is not None:
        by_period = rq.period_query(period)

        def link(start: date, stop: date) -> str:
            return by_period.period_href("/stats/ledger", start, stop)

        points = charts.month_points(forms.rows_of(doc.get("by_month")), end)
        trend = charts.trend("report-trend", points, link)
    return _page(
        wb,
        request,
        "stats_report.html",
        user,
        problem,
        rq=rq,
        values=rq.form_values(),
        options=report.report_options(now),
        report=found,
        # the report's figures are a list beside its periods (the summary's shape otherwise)
        figures=forms.figure_rows(
            {"figures": doc.get("summary") or [], "previous": doc.get("previous") or {}},
            rq.period_query(period),
        ),
        trend=trend,
        tables={
            name: report.breakdown_rows(doc.get(name))
            for name in ("by_channel", "by_kind", "top_categories", "top_places", "by_month")
        },
        units=report.unit_rows(doc.get("units")),
        backlog=report.backlog_figures(doc.get("backlog")),
        period_text=forms.period_text,
    )


# --- the files: streamed from the reports service as it makes them --------------------------


def streamed(download: Download) -> StreamingResponse:
    return StreamingResponse(
        download.chunks(), headers=download.headers(), background=BackgroundTask(download.close)
    )


async def _export(
    request: Request, wb: Workbench, user: User, path: str, params: dict[str, Any]
) -> Response:
    try:
        download = await user.api.download(
            REPORTS, path, read_timeout_s=wb.settings.export_timeout_s, **params
        )
    except NotFound:
        return _refused(wb, request, user, 404, "所选单位或地区不存在或不在您的管辖范围内")
    except Refused as exc:
        return _refused(
            wb, request, user, exc.status, "；".join([exc.message, *exc.errors.values()])
        )
    except Unavailable as exc:
        return _refused(wb, request, user, 503, exc.message)
    return streamed(download)


def _refused(wb: Workbench, request: Request, user: User, status: int, message: str) -> Response:
    return wb.pages.render(
        request, "message.html", user=user, status=status, title="未能导出", message=message
    )


def _format(fmt: str) -> str | None:
    return fmt if fmt in EXPORTS else None


@router.get("/stats/ledger.{fmt}")
async def ledger_export(request: Request, wb: WorkbenchDep, user: StaffDep, fmt: str) -> Response:
    if _format(fmt) is None:
        return _refused(wb, request, user, 404, "只能导出 Excel（.xlsx）或 CSV 文件")
    query = forms.stats_query(request.query_params)
    return await _export(
        request, wb, user, f"/api/v1/ledger/items.{fmt}", forms.export_params(query, today())
    )


@router.get("/stats/backlog.{fmt}")
async def backlog_export(request: Request, wb: WorkbenchDep, user: StaffDep, fmt: str) -> Response:
    if _format(fmt) is None:
        return _refused(wb, request, user, 404, "只能导出 Excel（.xlsx）或 CSV 文件")
    query = forms.stats_query(request.query_params, default_preset=forms.ALL_BACKLOG[0])
    return await _export(
        request, wb, user, f"/api/v1/ledger/backlog.{fmt}", forms.export_params(query, today())
    )


@router.get("/stats/report.xlsx")
async def report_export(request: Request, wb: WorkbenchDep, user: StaffDep) -> Response:
    rq = report.report_query(request.query_params, today())
    return await _export(request, wb, user, "/api/v1/reports/periodic.xlsx", rq.api_params())
