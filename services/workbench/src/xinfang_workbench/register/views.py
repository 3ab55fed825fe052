"""登记: the registrar's one form for every channel, its live helpers (the place cascade, the
classifier's suggestion, the open cases of the same petitioner) and the printable 回执.
Everything is intake's and routing's answer to the registrar's own token."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from xinfang_shared.auth.models import Role

from xinfang_workbench.api import NotFound, Refused, Unavailable
from xinfang_workbench.deps import PostedDep, WorkbenchDep, WrongRole, role_user
from xinfang_workbench.register import forms
from xinfang_workbench.session import User

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
RegistrarDep = Annotated[User, Depends(role_user(Role.REGISTRAR, Role.ADMIN))]
T = TypeVar("T")
NO_STORE = {"Cache-Control": "no-store"}


async def _or(call: Awaitable[T], default: T) -> T:
    """A helper's answer, or ``default`` when the service lacks it or is away (the form
    still works: intake decides on submit)."""
    try:
        return await call
    except (NotFound, Unavailable) as exc:
        log.info("register: optional lookup unavailable: %s", exc)
        return default


def _unit_root(user: User) -> str:
    return user.principal.org_code.split("-")[0]


def _below(wb: Any, user: User, code: str) -> bool:
    return wb.tree.unit(code) is not None and wb.tree.is_ancestor(_unit_root(user), code)


async def _units(wb: Any, user: User, parent: str) -> list[dict[str, Any]]:
    if not _below(wb, user, parent):
        return []
    units = await _or(user.api.get("routing", "/api/v1/org/units", parent=parent), None)
    if units is None:
        units = forms.children_of_tree(wb.tree, parent)
    return list(units)


async def _rules(user: User) -> dict[str, Any]:
    rules = await _or(user.api.get("intake", "/api/v1/registration/rules"), {})
    return {
        "collective_threshold": int(
            (rules or {}).get("collective_threshold") or forms.COLLECTIVE_THRESHOLD
        ),
        "max_representatives": int(
            (rules or {}).get("max_representatives") or forms.MAX_REPRESENTATIVES
        ),
    }


async def _form(
    request: Request,
    wb: Any,
    user: User,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    message: str = "",
    duplicates: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HTMLResponse:
    values = dict(values or {})
    root = _unit_root(user)
    rules, categories, level1 = await asyncio.gather(
        _rules(user),
        _or(user.api.get("routing", "/api/v1/categories"), []),
        _units(wb, user, root),
    )
    place2: list[dict[str, Any]] = []
    if values.get("place.1"):
        place2 = await _units(wb, user, values["place.1"])
    values.setdefault("idem", secrets.token_hex(12))
    return wb.pages.render(
        request,
        "register.html",
        user=user,
        status=status,
        values=values,
        errors=errors or {},
        message=message,
        duplicates=duplicates or [],
        channels=forms.CHANNELS,
        received_labels=forms.RECEIVED_LABELS,
        rows=forms.form_rows(values),
        offices=forms.offices(wb.tree, root),
        categories=forms.category_choices(categories),
        place1=forms.unit_choices(level1),
        place2=forms.unit_choices(place2),
        root_name=(wb.tree.unit(root).name if wb.tree.unit(root) else ""),
        rules=rules,
    )


@router.get("/register", response_class=HTMLResponse)
async def register_form(request: Request, wb: WorkbenchDep, user: RegistrarDep) -> Response:
    return await _form(request, wb, user)


async def _open_for(user: User, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for kind, value in keys:
        try:
            items = await user.api.get("intake", "/api/v1/records/open-for", **{kind: value})
        except (NotFound, Unavailable):
            return []  # intake without the lookup: registration goes on, routing links repeats
        except Refused:
            continue  # a malformed ID: the registration's own answer says so
        found.extend(items or [])
    return forms.open_cases(found)


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request, wb: WorkbenchDep, posted: PostedDep) -> Response:
    user = posted.user
    if user.role not in (Role.REGISTRAR, Role.ADMIN):
        raise WrongRole((Role.REGISTRAR, Role.ADMIN))
    values = posted.values()
    values.pop("csrf", None)
    duplicates = await _open_for(user, forms.duplicate_keys(values))
    if duplicates:
        return await _form(
            request,
            wb,
            user,
            values=values,
            duplicates=duplicates,
            status=409,
        )
    built = forms.build(values)
    idem = values.get("idem") or secrets.token_hex(12)
    try:
        created = await user.api.post(
            "intake", "/api/v1/petitions", built.body, headers={"Idempotency-Key": f"wb-{idem}"}
        )
    except NotFound as exc:
        return await _form(request, wb, user, values=values, message=exc.message, status=404)
    except Refused as exc:
        errors = forms.errors_for_form(exc.errors, built.rows)
        if exc.status == 403 and exc.body.get("field"):
            errors.setdefault(str(exc.body["field"]), exc.message)
        return await _form(
            request,
            wb,
            user,
            values=values,
            errors=errors,
            message=exc.message,
            status=exc.status,
        )
    office = dict(forms.offices(wb.tree, _unit_root(user))).get(
        built.body["receiving_office_code"], ""
    )
    status = await _or(user.api.get("intake", f"/api/v1/petitions/{created['query_code']}"), None)
    receipt = forms.receipt(created, status, channel=built.body["channel"], office=office)
    receipt["petitioners"] = [
        p.get("name") for p in built.body.get("petitioners", []) if not receipt["informant_sealed"]
    ]
    return wb.pages.render(request, "receipt.html", user=user, status=201, r=receipt)


@router.get("/register/receipt/{case_id}", response_class=HTMLResponse)
async def receipt_page(
    request: Request, wb: WorkbenchDep, user: RegistrarDep, case_id: str
) -> Response:
    record = await user.api.get("intake", f"/api/v1/records/{case_id}")
    status = await _or(user.api.get("intake", f"/api/v1/petitions/{record['query_code']}"), None)
    receipt = forms.receipt(
        record,
        status,
        channel=str(record.get("channel") or ""),
        office=str(record.get("receiving_office_name") or ""),
    )
    receipt["petitioners"] = [p.get("name") for p in record.get("petitioners") or []]
    return wb.pages.render(request, "receipt.html", user=user, r=receipt)


# --- the form's live helpers (same-origin GETs answering JSON) ---------------------------------


@router.get("/register/api/units")
async def units(
    wb: WorkbenchDep, user: RegistrarDep, parent: Annotated[str, Query(max_length=40)]
) -> JSONResponse:
    return JSONResponse(
        [{"code": u["code"], "name": u["name"]} for u in await _units(wb, user, parent)],
        headers=NO_STORE,
    )


@router.get("/register/api/classify")
async def classify(
    user: RegistrarDep,
    content: Annotated[str, Query(max_length=4000)] = "",
    title: Annotated[str, Query(max_length=200)] = "",
) -> JSONResponse:
    if len(content.strip()) < 5:
        return JSONResponse({"text": "", "suggestions": [], "notes": []}, headers=NO_STORE)
    try:
        answer = await user.api.post(
            "routing", "/api/v1/classify", {"content": content, "title": title}
        )
    except (Refused, Unavailable):
        return JSONResponse({"text": "", "suggestions": [], "notes": []}, headers=NO_STORE)
    return JSONResponse(forms.suggestion_of(answer), headers=NO_STORE)


@router.get("/register/api/open-for")
async def open_for(
    user: RegistrarDep,
    id_number: Annotated[str, Query(max_length=30)] = "",
    phone: Annotated[str, Query(max_length=30)] = "",
) -> JSONResponse:
    keys = [("id_number", id_number.strip().upper())] if id_number.strip() else []
    if phone.strip():
        keys.append(("phone", phone.strip()))
    items = await _open_for(user, keys)
    return JSONResponse(
        [
            {
                "case_number": i.get("case_number"),
                "received": str(i.get("received_at") or "")[:10],
                "status_label": i.get("status_label") or "",
                "handling_unit_name": i.get("handling_unit_name") or "",
                "excerpt": i.get("excerpt") or "",
            }
            for i in items
        ],
        headers=NO_STORE,
    )


@router.get("/register/api/deadlines/{case_id}")
async def deadlines(user: RegistrarDep, case_id: str) -> JSONResponse:
    """The receipt's deadlines once supervision opened the case (the receipt asks a few times)."""
    record = await user.api.get("intake", f"/api/v1/records/{case_id}")
    status = await _or(user.api.get("intake", f"/api/v1/petitions/{record['query_code']}"), None)
    r = forms.receipt(record, status, channel="", office="")
    return JSONResponse(
        {
            "deadlines": r["deadlines"],
            "status_label": r["status_label"],
            "handling_unit": r["handling_unit"],
        },
        headers=NO_STORE,
    )
