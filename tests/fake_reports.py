"""A stand-in for the reports service's API (issue #17 contract: the JSON shapes of
/api/v1/stats/*, /api/v1/ledger/*, /api/v1/reports/periodic) and for routing's catalog, so the
workbench's 统计 pages can be rendered, tested and photographed before the real service runs.

The numbers are made up but consistent the way the contract says they must be: the 台账 of a
measure lists exactly as many items as the summary counts for it (same period, same filters).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta
from typing import Annotated, Any

import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from xinfang_shared.web import invalid_request, validation_handler
from xinfang_workbench.stats.forms import month_end, shift_year

from tests.conftest import eventually, free_port

# key, label, unit, share of the period's items (None: a rate or a figure not yet counted)
FIGURES: tuple[tuple[str, str, str, float | None], ...] = (
    ("items", "件次", "件次", 1.0),
    ("letters", "来信", "件次", 0.3),
    ("visits", "来访批次", "批", 0.35),
    ("visit_persons", "来访人次", "人次", 0.6),
    ("phone", "来电", "件次", 0.15),
    ("online", "网上信访", "件次", 0.15),
    ("leader_mailbox", "领导信箱", "件次", 0.05),
    ("first_time", "初信初访", "件次", 0.7),
    ("repeat", "重复信访", "件次", 0.25),
    ("multi_sent", "一信多投", "件次", 0.05),
    ("collective", "集体访/联名", "件次", 0.08),
    ("collective_visits", "集体访批次", "批", 0.06),
    ("collective_persons", "集体访人次", "人次", 0.3),
    ("skip_level", "越级访", "件次", 0.04),
    ("accepted", "受理", "件次", 0.8),
    ("not_accepted", "不予受理", "件次", 0.1),
    ("accept_assessable", "应受理告知", "件次", 0.9),
    ("accept_timely", "按期受理告知", "件次", 0.85),
    ("reply_assessable", "应办结", "件次", 0.6),
    ("reply_ontime", "按期办结", "件次", 0.5),
    ("replied", "已办结", "件次", 0.55),
    ("overdue", "超期", "件次", 0.07),
    ("supervised", "督办", "件次", 0.05),
    ("escalated", "提级", "件次", 0.02),
    ("backlog_total", "积案", "件次", 0.06),
    ("backlog_resolved", "化解", "件次", 0.03),
)
RATES = (
    ("accept_timely_rate", "及时受理率", "accept_timely", "accept_assessable"),
    ("reply_ontime_rate", "按期办结率（按期答复率）", "reply_ontime", "reply_assessable"),
    ("repeat_rate", "重复信访率", "repeat", "items"),
    ("backlog_rate", "化解率", "backlog_resolved", "backlog_total"),
)
NOT_YET = (
    ("rated", "参评"),
    ("satisfied", "满意"),
    ("rated_rate", "参评率"),
    ("satisfied_rate", "满意率"),
)
CATEGORIES = (
    ("land_requisition", "土地征收补偿"),
    ("demolition", "房屋征收拆迁"),
    ("wage_arrears", "拖欠农民工工资"),
    ("social_insurance", "社会保险"),
    ("environment_pollution", "环境污染"),
    ("court_enforcement", "法院执行"),
    ("village_affairs", "村务管理"),
    ("education", "教育"),
    ("medical", "医疗卫生"),
    ("traffic", "交通运输"),
    ("public_security", "社会治安"),
    ("housing", "住房保障"),
)
PLACES = (("339922101", "清河镇"), ("339922102", "柳塘乡"), ("339922103", "石门镇"))
UNITS = (
    ("339922-zrzy", "清河县自然资源和规划局"),
    ("339922-rsj", "清河县人力资源和社会保障局"),
    ("339922-zjj", "清河县住房和城乡建设局"),
    ("339922-sthj", "江临市生态环境局清河县分局"),
    ("339922-fy", "清河县人民法院"),
    ("339922101", "清河镇人民政府"),
)
CHANNEL_LABELS = {
    "letter": "来信",
    "visit": "来访",
    "phone": "来电",
    "online": "网上信访",
    "leader_mailbox": "领导信箱",
}
DateQ = Annotated[date | None, Query(alias="from")]
ToQ = Annotated[date | None, Query(alias="to")]


def period_of(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    return start or today.replace(day=1), end or today


def base_items(start: date, end: date, filters: dict[str, Any]) -> int:
    """The period's 件次: three a day, halved for each filter in force."""
    n = 3 * ((end - start).days + 1)
    for name in ("channel", "kind", "category", "place", "handling"):
        if filters.get(name):
            n //= 2
    return n


def measure_value(key: str, start: date, end: date, filters: dict[str, Any]) -> int:
    share = next((s for k, _, _, s in FIGURES if k == key), 1.0) or 1.0
    return round(base_items(start, end, filters) * share)


def summary(start: date, end: date, filters: dict[str, Any]) -> dict[str, Any]:
    prev_start, prev_end = shift_year(start), shift_year(end)
    values = {k: measure_value(k, start, end, filters) for k, _, _, _ in FIGURES}
    previous = {k: round(measure_value(k, prev_start, prev_end, filters) * 0.9) for k in values}
    previous["leader_mailbox"] = 0  # new this year: 同比 against 0
    previous["skip_level"] = values["skip_level"]  # unchanged: 持平
    figures = []
    for key, label, unit, _ in FIGURES:
        v, p = values[key], previous[key]
        figures.append(_figure(key, label, unit, v, p, measure=key))
    for key, label, num, den in RATES:
        v = round(values[num] / values[den] * 100, 1) if values[den] else None
        p = round(previous[num] / previous[den] * 100, 1) if previous[den] else None
        figures.append(
            _figure(key, label, "%", v, p, numerator=values[num], denominator=values[den])
        )
    for key, label in NOT_YET:
        unit = "%" if key.endswith("rate") else "件次"
        figures.append(_figure(key, label, unit, None, None, note="信访人评价上线后统计"))
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "label": "本期"},
        "previous": {
            "from": prev_start.isoformat(),
            "to": prev_end.isoformat(),
            "label": "去年同期",
        },
        "as_of": end.isoformat(),
        "scope": {"code": "339922", "name": "清河县"},
        "figures": figures,
    }


def _figure(
    key: str, label: str, unit: str, value: Any, previous: Any, **extra: Any
) -> dict[str, Any]:
    change = None if value is None or previous is None else round(value - previous, 1)
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "value": value,
        "previous": previous,
        "change": change,
        "numerator": extra.get("numerator"),
        "denominator": extra.get("denominator"),
        "measure": extra.get("measure"),
        "note": extra.get("note"),
    }


def _row(key: str, name: str, items: int, previous_items: int) -> dict[str, Any]:
    assessable = round(items * 0.6)
    ontime = round(assessable * 0.8)
    return {
        "key": key,
        "name": name,
        "items": items,
        "previous_items": previous_items,
        "visits": round(items * 0.35),
        "visit_persons": round(items * 0.6),
        "repeat": round(items * 0.25),
        "collective": round(items * 0.08),
        "overdue": round(items * 0.07),
        "supervised": round(items * 0.05),
        "reply_assessable": assessable,
        "reply_ontime": ontime,
        "reply_ontime_rate": round(ontime / assessable * 100, 1) if assessable else None,
    }


def breakdown(by: str, start: date, end: date, filters: dict[str, Any]) -> dict[str, Any]:
    total = base_items(start, end, filters)
    rows: list[dict[str, Any]] = []
    if by == "month":
        m = start.replace(day=1)
        while m <= end:
            stop = min(month_end(m), end)
            if m.month != 2:  # February received nothing: the API leaves the month out
                n = base_items(max(m, start), stop, filters)
                rows.append(_row(f"{m:%Y-%m}", f"{m.year}年{m.month}月", n, round(n * 0.85)))
            m = month_end(m) + timedelta(days=1)
        return {"by": by, "label": "按月", "rows": rows, **_frame(start, end)}
    named = {"category": CATEGORIES, "place": PLACES, "handling": UNITS, "channel": ()}.get(by, ())
    if by == "channel":
        named = tuple(CHANNEL_LABELS.items())
    weights = [len(named) - i for i in range(len(named))]
    for (key, name), w in zip(named, weights, strict=True):
        n = total * w // (sum(weights) + 1)
        rows.append(_row(key, name, n, round(n * 1.1)))
    if by == "place":
        rows.append(_row("", "未注明地点", total // 20, 0))
    if by == "kind":
        rows = [
            _row("申诉求决", "申诉求决", total * 3 // 4, total // 2),
            _row("建议意见", "建议意见", total // 4, 0),
        ]
    return {"by": by, "label": f"按{by}", "rows": rows, **_frame(start, end)}


def _frame(start: date, end: date) -> dict[str, Any]:
    """The period, last year's, the day of counting and the scope every answer carries."""
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat(), "label": "本期"},
        "previous": {
            "from": shift_year(start).isoformat(),
            "to": shift_year(end).isoformat(),
            "label": "去年同期",
        },
        "as_of": end.isoformat(),
        "scope": {"code": "339922", "name": "清河县"},
    }


def ledger_row(i: int, start: date) -> dict[str, Any]:
    channel = list(CHANNEL_LABELS)[i % 5]
    category = CATEGORIES[i % len(CATEGORIES)]
    sealed = i % 11 == 0
    return {
        "case_id": f"00000000-0000-4000-8000-{i:012d}",
        "case_number": f"339922-{start.year}-{i + 1:06d}",
        "received_date": (start + timedelta(days=i % 28)).isoformat(),
        "channel": channel,
        "channel_label": CHANNEL_LABELS[channel],
        "petitioners": "（检举人信息保密）"
        if sealed
        else ["张三、李四", "王五", "赵六", None][i % 4],
        "persons": 1 + i % 6 if channel == "visit" else 1,
        "place_name": PLACES[i % 3][1],
        "title": f"关于{category[1]}问题的反映",
        "summary": "反映人称"
        + "村集体土地被征收后补偿款至今未发放到位，多次向村委会反映未果，请求督促有关部门依法处理。"[
            : 20 + i % 40
        ],
        "kind": "检举控告" if sealed else "申诉求决",
        "category_name": category[1],
        "handling_name": UNITS[i % len(UNITS)][1],
        "reply_due": (start + timedelta(days=60 + i % 28)).isoformat(),
        "status_label": ["已受理，办理中", "已出具处理意见", "待受理", "已办结"][i % 4],
        "outcome": "已协调发放补偿款" if i % 4 == 1 else None,
        "repeat_match": ["重复信访", None, None, "一信多投", None][i % 5],
        "overdue": i % 7 == 0,
        "supervised": i % 9 == 0,
    }


def backlog_row(i: int, start: date) -> dict[str, Any]:
    row = ledger_row(i, start)
    return {
        **{
            k: row[k]
            for k in (
                "case_id",
                "case_number",
                "received_date",
                "title",
                "category_name",
                "place_name",
                "handling_name",
                "status_label",
            )
        },
        "leader": "清河县分管信访工作的副县长" if i % 2 else None,
        "backlog_date": (start + timedelta(days=40 + i % 20)).isoformat(),
        "backlog_reasons": "超期未办结；重复信访三次以上" if i % 3 else "超期未办结",
        "escalations": i % 3,
        "supervised": i % 2 == 0,
        "closed_date": (start + timedelta(days=90)).isoformat() if i % 4 == 0 else None,
    }


def reports_app(
    *, today: date, gate: asyncio.Event | None = None, export_rows: int = 1000
) -> FastAPI:
    """The fake reports API. ``gate``: an export sends its first chunk, then waits for it (so a
    test can tell the workbench passed the first chunk on before the service made the rest).
    ``app.state.down = True``: every answer is a 503."""
    app = FastAPI()
    app.state.down = False
    app.state.calls = []
    app.add_exception_handler(RequestValidationError, validation_handler)

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        app.state.calls.append((request.url.path, dict(request.query_params)))
        if app.state.down:
            return JSONResponse({"message": "down"}, status_code=503)
        if not request.headers.get("authorization", "").startswith("Bearer "):
            return JSONResponse({"message": "未登录"}, status_code=401)
        response: Response = await call_next(request)
        return response

    def filters_of(request: Request) -> dict[str, Any]:
        return dict(request.query_params)

    def checked(start: date | None, end: date | None) -> tuple[date, date] | JSONResponse:
        s, e = period_of(start, end, today)
        if e < s:
            return invalid_request(
                [
                    {
                        "field": "to",
                        "code": "to_before_from",
                        "message": "截止日期不能早于起始日期",
                        "message_en": "to is before from",
                    }
                ]
            )
        return s, e

    @app.get("/api/v1/stats/summary")
    async def get_summary(request: Request, start: DateQ = None, end: ToQ = None) -> Any:
        found = checked(start, end)
        return found if isinstance(found, JSONResponse) else summary(*found, filters_of(request))

    @app.get("/api/v1/stats/breakdown")
    async def get_breakdown(request: Request, by: str, start: DateQ = None, end: ToQ = None) -> Any:
        found = checked(start, end)
        return (
            found if isinstance(found, JSONResponse) else breakdown(by, *found, filters_of(request))
        )

    def ledger_total(request: Request, s: date, e: date) -> int:
        return measure_value(
            request.query_params.get("measure") or "items", s, e, filters_of(request)
        )

    @app.get("/api/v1/ledger/items")
    async def items(
        request: Request, start: DateQ = None, end: ToQ = None, page: int = 1, page_size: int = 50
    ) -> Any:
        found = checked(start, end)
        if isinstance(found, JSONResponse):
            return found
        total = ledger_total(request, *found)
        first = (page - 1) * page_size
        rows = [ledger_row(i, found[0]) for i in range(first, min(total, first + page_size))]
        return {"total": total, "page": page, "page_size": page_size, "rows": rows}

    @app.get("/api/v1/ledger/backlog")
    async def backlog(
        request: Request, start: DateQ = None, end: ToQ = None, page: int = 1, page_size: int = 50
    ) -> Any:
        s = start or date(today.year - 1, 1, 1)
        total = 23 if start is None else 7
        first = (page - 1) * page_size
        return {
            "total": total,
            "page": page,
            "page_size": page_size,
            "rows": [backlog_row(i, s) for i in range(first, min(total, first + page_size))],
        }

    async def csv_chunks(s: date) -> AsyncIterator[bytes]:
        yield "\ufeff编号,日期,渠道,信访人\r\n".encode()
        for first in range(0, export_rows, 500):
            lines = []
            for i in range(first, min(export_rows, first + 500)):
                r = ledger_row(i, s)
                lines.append(
                    f"{r['case_number']},{r['received_date']},{r['channel_label']},"
                    f"{r['petitioners'] or ''}\r\n"
                )
            yield "".join(lines).encode()
            if gate is not None:
                await gate.wait()

    def disposition(name: str) -> dict[str, str]:
        from urllib.parse import quote

        return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"}

    @app.get("/api/v1/ledger/{which}.{fmt}")
    async def export(which: str, fmt: str, start: DateQ = None, end: ToQ = None) -> Any:
        s, e = period_of(start, end, today)
        if export_rows > 100_000:
            return invalid_request(
                [
                    {
                        "field": "body",
                        "code": "too_many_rows",
                        "message": "导出的记录超过100000条，请缩小统计范围",
                        "message_en": "too many rows",
                    }
                ]
            )
        title = "信访登记台账" if which == "items" else "积案台账"
        if fmt == "csv":
            return StreamingResponse(
                csv_chunks(s),
                media_type="text/csv; charset=utf-8",
                headers=disposition(f"{title}_{s}_{e}.csv"),
            )
        return Response(
            b"PK\x03\x04 fake workbook",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=disposition(f"{title}_{s}_{e}.xlsx"),
        )

    def report_period(period: str, year: int, number: int | None) -> tuple[date, date, str]:
        if period == "year":
            return date(year, 1, 1), min(date(year, 12, 31), today), f"{year}年"
        if period == "quarter":
            n = number or 1
            s = date(year, 3 * n - 2, 1)
            return (
                s,
                min(month_end(date(year, 3 * n, 1)), today),
                f"{year}年第{'一二三四'[n - 1]}季度",
            )
        n = number or 1
        s = date(year, n, 1)
        return s, min(month_end(s), today), f"{year}年{n}月"

    @app.get("/api/v1/reports/periodic")
    async def periodic(request: Request, period: str, year: int, number: int | None = None) -> Any:
        s, e, label = report_period(period, year, number)
        if s > today:
            return invalid_request(
                [
                    {
                        "field": "number",
                        "code": "future",
                        "message": "所选报表期尚未开始",
                        "message_en": "the period has not begun",
                    }
                ]
            )
        f = filters_of(request)
        units = sorted(
            (_row(k, n, 40 - 5 * i, 30) for i, (k, n) in enumerate(UNITS)),
            key=lambda r: -(r["reply_ontime_rate"] or 0),
        )
        return {
            "title": f"清河县{label}信访工作统计报告",
            "kind": period,
            "as_of": e.isoformat(),
            "scope": {"code": "339922", "name": "清河县"},
            "period": {"from": s.isoformat(), "to": e.isoformat(), "label": label},
            "previous": {
                "from": shift_year(s).isoformat(),
                "to": shift_year(e).isoformat(),
                "label": "去年同期",
            },
            "summary": summary(s, e, {})["figures"],
            "by_channel": breakdown("channel", s, e, f)["rows"],
            "by_kind": breakdown("kind", s, e, f)["rows"],
            "top_categories": breakdown("category", s, e, f)["rows"][:10],
            "top_places": breakdown("place", s, e, f)["rows"][:10],
            "units": [
                {
                    **{
                        k: u[k]
                        for k in (
                            "name",
                            "items",
                            "reply_assessable",
                            "reply_ontime",
                            "overdue",
                            "supervised",
                        )
                    },
                    "code": u["key"],
                    "rate": u["reply_ontime_rate"],
                }
                for u in units
            ],
            "backlog": {"total": 12, "resolved": 5, "rate": 41.7},
            "by_month": breakdown("month", date(year, 1, 1), e, f)["rows"],
        }

    @app.get("/api/v1/reports/periodic.xlsx")
    async def periodic_xlsx(period: str, year: int, number: int | None = None) -> Any:
        label = report_period(period, year, number)[2]
        return Response(
            b"PK\x03\x04 fake report",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=disposition(f"信访工作统计报告_{label}.xlsx"),
        )

    return app


def routing_app() -> FastAPI:
    """Routing's catalog as the filter form asks it: categories, townships, departments."""
    app = FastAPI()

    @app.get("/api/v1/categories")
    async def categories() -> Any:
        return [
            {
                "code": c,
                "name": n,
                "kind": "申诉求决",
                "kind_label": "申诉求决类",
                "confidential": False,
            }
            for c, n in CATEGORIES
        ]

    @app.get("/api/v1/org/units")
    async def units(parent: str | None = None) -> Any:
        return [
            {"code": c, "name": n, "level": "township", "level_label": "乡镇", "has_children": True}
            for c, n in PLACES
        ]

    @app.get("/api/v1/org/departments")
    async def departments(unit: str | None = None) -> Any:
        return [
            {"code": c, "name": n, "kind": "functional", "kind_label": "职能部门"}
            for c, n in UNITS
            if "-" in c
        ]

    return app


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    """``app`` over HTTP on a free local port, in this event loop; yields its address."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, timeout=20, what="serving")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
