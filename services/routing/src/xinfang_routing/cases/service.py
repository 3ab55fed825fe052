"""Routing a case: a new petition (linked to the open case it repeats, else decided and sent
down its hops), the corrections (objection, reassignment), closing, and the case as read.
Functions take the session (or a unit of work) and never commit: the caller does."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from xinfang_shared import org
from xinfang_shared.auth.scope import org_name
from xinfang_shared.db import UnitOfWork
from xinfang_shared.events import (
    CaseLinked,
    CaseRouted,
    EventData,
    PetitionReceived,
    SkipLevelAlert,
    new_event,
)
from xinfang_shared.timeutil import local_date
from xinfang_shared.workdays import add_working_days

from xinfang_routing.cases.decision import Decision, decide
from xinfang_routing.cases.linking import asked_link
from xinfang_routing.context import SOURCE, RoutingContext
from xinfang_routing.models import cases, fingerprints, hops, outbox
from xinfang_routing.repeats.matching import Match, identity_keys, signature
from xinfang_routing.repeats.service import refresh_index
from xinfang_routing.rules import Rules


class CaseNotFound(LookupError):
    pass


class Conflict(Exception):
    """A request that contradicts the case's state: 409 with the reason in Chinese."""

    def __init__(self, zh: str, en: str, **extra: Any) -> None:
        super().__init__(en)
        self.zh, self.en, self.extra = zh, en, extra


# --- routing a new petition -------------------------------------------------------------


def _emit(uow: UnitOfWork, data: EventData, now: datetime) -> None:
    uow.emit(outbox, new_event(data=data, source=SOURCE, time=now), now=now)


async def _case_row(uow: UnitOfWork, case_id: str) -> Any:
    """A case by id, including one staged earlier in the same (not yet flushed) batch."""
    for row in reversed(uow.staged(cases)):
        if row["case_id"] == case_id:
            return SimpleNamespace(**row)
    return (await uow.session.execute(select(cases).where(cases.c.case_id == case_id))).first()


async def route_petition(
    *,
    uow: UnitOfWork,
    ctx: RoutingContext,
    petition: PetitionReceived,
    now: datetime,
    watch: bool = False,
) -> Decision | CaseLinked:
    """Route a petition registered at an office this level owns: link it to an open case of the
    same petitioner and matter, else decide who handles it and publish the hops.

    ``watch``: a petition registered at a lower level's office (which routes it): keep the case
    (decided the same way, published nowhere) so that this level sees it and links a later
    arrival here to it (a petitioner who goes on from the township to the county)."""
    p = petition
    keys = identity_keys(p.petitioners, ctx.id_salt) if not p.anonymous else []
    sig = signature(f"{p.title or ''}{p.content}")
    decision = decide(p, tree=ctx.tree, rules=ctx.rules, model=ctx.model)
    matter = (decision.category, decision.responsible_department) if decision.category else None
    # the matter profile, only for items that can be linked (anonymous ones never are)
    profile = ctx.index.profile(p.content, p.title or "") if keys else None
    if time.monotonic() - ctx.index.refreshed_at >= ctx.refresh_every_s:
        await refresh_index(session=uow.session, index=ctx.index)
    match = ctx.index.find(keys, sig, profile) if keys else None
    root = await _case_row(uow, match.root_case_id) if match is not None else None
    if root is not None and root.status == "closed":
        root = None  # a closed matter that comes back is a new case (issue #4: 不再受理 rules)
    if p.repeat_of and not watch:  # the registrar named the open case it repeats
        asked = await asked_link(uow=uow, tree=ctx.tree, p=p)
        root, match = (asked.root, asked.match) if asked.root is not None else (root, match)
        if asked.note and root is None:
            decision = replace(decision, reason=f"{decision.reason}；{asked.note}")
    root_id = root.case_id if root is not None else p.case_id
    if root is not None:
        matter = (root.category, root.holder_code) if root.category else None
    uow.add(
        fingerprints,
        {
            "case_id": p.case_id,
            "root_case_id": root_id,
            "identity_keys": keys,
            "signature": sig.tobytes(),
            "category": matter[0] if matter else None,
            "department": matter[1] if matter else None,
            "received_at": p.received_at,
            **(ctx.index.matcher.encode(profile) if profile is not None else {}),
        },
    )
    # visible at once to the next item (same batch); forgotten if the transaction rolls back
    ctx.index.add(
        case_id=p.case_id,
        root_case_id=root_id,
        keys=keys,
        sig=sig,
        matter=matter,
        profile=profile,
    )
    if watch:
        uow.add(cases, _case_values(p, decision, now, status="watched"))
        return decision
    if root is not None and match is not None:
        return await _link(uow=uow, ctx=ctx, p=p, root=root, match=match, now=now)
    return _route(uow=uow, ctx=ctx, p=p, d=decision, now=now, keys=keys)


async def _link(
    *,
    uow: UnitOfWork,
    ctx: RoutingContext,
    p: PetitionReceived,
    root: Any,
    match: Match,
    now: datetime,
) -> CaseLinked:
    tree = ctx.tree
    similarity = match.similarity
    same_letter = (
        similarity >= ctx.same_letter_threshold
        and p.receiving_office_code != root.receiving_office_code
    )
    recv = tree.unit(p.receiving_office_code)
    resp = tree.unit(root.responsible_unit_code) if root.responsible_unit_code else None
    above = bool(
        recv and resp and recv.code != resp.code and tree.is_ancestor(recv.code, resp.code)
    )
    # 越级访 whether or not it is a repeat: the rule of decision.py (a visit two or more levels
    # above the responsible unit), against the unit of the case it joins
    skipped = resp.depth - recv.depth if recv and resp else 0
    skip_level = p.channel == "visit" and skipped >= 2
    count = await _bump_repeat_count(uow, root.case_id)
    uow.add(
        cases,
        {
            "case_id": p.case_id,
            "case_number": p.case_number,
            "receiving_office_code": p.receiving_office_code,
            "received_at": p.received_at,
            "channel": p.channel,
            "category": root.category,
            "category_source": "linked",
            "kind": root.kind,
            "legal_channel": root.legal_channel,
            "confidential": root.confidential,
            "territory_code": root.territory_code,
            "responsible_unit_code": root.responsible_unit_code,
            "holder_code": root.holder_code,
            "holder_since": now,
            "supervising_code": root.supervising_code,
            "skip_level": skip_level,
            "status": "linked",
            "linked_to": root.case_id,
            "repeat_count": 0,
            "decision": {
                "linked_to": root.case_number,
                "similarity": round(similarity, 3),
                "matter_score": round(match.score, 3),
                "matched_by": match.by,
                **(
                    {"levels_skipped": skipped, "reason": f"越级访（越{skipped}级）"}
                    if skip_level
                    else {}
                ),
            },
        },
    )
    linked = CaseLinked(
        case_id=p.case_id,
        case_number=p.case_number,
        linked_case_id=root.case_id,
        linked_case_number=root.case_number,
        match="一信多投" if same_letter else "重复信访",
        similarity=round(similarity, 3),
        repeat_count=count + 1,
        receiving_office_code=p.receiving_office_code,
        holder_code=root.holder_code,
        received_above=above,
        linked_at=now,
        category=root.category,
        category_name=_category_name(ctx, root.category),
        kind=root.kind,
        holder_name=org_name(ctx.tree, root.holder_code) if root.holder_code else None,
        skip_level=skip_level,
    )
    _emit(uow, linked, now)
    if skip_level and root.holder_code:
        holder = ctx.tree.department(root.holder_code)
        name = holder.name if holder else root.holder_code
        _alert_skip_level(uow, ctx, p, root.holder_code, name, skipped, now)
    ctx.stats["linked"] += 1
    return linked


def _category_name(ctx: RoutingContext, category: str | None) -> str | None:
    rule = ctx.rules.categories.get(category or "")
    return rule.name if rule else None


def _alert_skip_level(
    uow: UnitOfWork,
    ctx: RoutingContext,
    p: PetitionReceived,
    responsible_code: str,
    responsible_name: str,
    levels_skipped: int,
    now: datetime,
) -> None:
    """Tell the responsible body (for a repeat, the one holding the case) and the receiving
    office of a 越级访: notify sends alert.skip_level to both."""
    recv = ctx.tree.unit(p.receiving_office_code)
    _emit(
        uow,
        SkipLevelAlert(
            case_id=p.case_id,
            case_number=p.case_number,
            receiving_office_code=p.receiving_office_code,
            receiving_office_name=recv.petition_office_name if recv else p.receiving_office_name,
            responsible_code=responsible_code,
            responsible_name=responsible_name,
            levels_skipped=levels_skipped,
            raised_at=now,
        ),
        now,
    )


async def _bump_repeat_count(uow: UnitOfWork, case_id: str) -> int:
    """Count one more arrival on the original; returns the repeats before this one."""
    for row in uow.staged(cases):
        if row["case_id"] == case_id:  # the original is in this very batch
            row["repeat_count"] += 1
            return int(row["repeat_count"]) - 1
    result = await uow.session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(repeat_count=cases.c.repeat_count + 1)
        .returning(cases.c.repeat_count)
    )
    return int(result.scalar_one()) - 1


def _place(tree: org.OrgTree, territory: str | None, keys: list[str]) -> dict[str, Any]:
    """Where the matter is, for counting emerging incidents: a village/community, else a
    township; nothing coarser (a whole county is not "one place")."""
    unit = tree.unit(territory) if territory else None
    if unit is None or unit.level not in (org.Level.VILLAGE, org.Level.TOWNSHIP):
        return {}
    return {
        "place_code": unit.code,
        "place_name": unit.name,
        "petitioner_key": keys[0] if keys else None,
    }


def _case_values(p: PetitionReceived, d: Decision, now: datetime, *, status: str) -> dict[str, Any]:
    return {
        "case_id": p.case_id,
        "case_number": p.case_number,
        "receiving_office_code": p.receiving_office_code,
        "received_at": p.received_at,
        "channel": p.channel,
        "category": d.category,
        "category_source": d.category_source,
        "kind": d.kind,
        "legal_channel": d.channel,
        "confidential": d.confidential,
        "territory_code": d.territory_code,
        "responsible_unit_code": d.responsible_unit,
        "holder_code": d.responsible_department,
        "holder_since": now,
        "supervising_code": d.hops[0].from_code,
        "skip_level": d.skip_level,
        "status": status,
        "linked_to": None,
        "repeat_count": 1,
        "decision": {
            "reason": d.reason,
            "territory_source": d.territory_source,
            "suggestions": [s.model_dump() for s in d.suggestions],
        },
    }


def _refuse_watched(case: Any) -> None:
    if case.status == "watched":
        raise Conflict(
            "该件由受理层级的系统分办，异议和改派请在该级系统中提出",
            "the level that registered this case routes it: object or reassign there",
        )


def _route(
    *,
    uow: UnitOfWork,
    ctx: RoutingContext,
    p: PetitionReceived,
    d: Decision,
    now: datetime,
    keys: list[str],
) -> Decision:
    supervising = d.hops[0].from_code
    place = _place(ctx.tree, d.territory_code, keys)
    uow.add(cases, _case_values(p, d, now, status="routed"))
    for i, hop in enumerate(d.hops, start=1):
        final = i == len(d.hops)
        _add_hop(
            uow,
            p.case_id,
            p.case_number,
            hop=i,
            action=hop.action,
            from_code=hop.from_code,
            from_name=hop.from_name,
            to_code=hop.to_code,
            to_name=hop.to_name,
            reason=d.reason,
            actor="routing",
            manual=d.needs_manual_triage and final,
            final=final,
            transfer_due=hop.transfer_due,
            received_at=p.received_at,
            now=now,
            extra={
                "supervising_code": supervising,
                "category": d.category,
                "category_name": d.category_name,
                "kind": d.kind,
                "legal_channel": d.channel == "legal",
                "confidential": d.confidential,
                "skip_level": d.skip_level,
                "suggestions": d.suggestions if final else (),
                **place,
            },
        )
    if d.skip_level:
        _alert_skip_level(
            uow, ctx, p, d.responsible_department, d.responsible_name, d.levels_skipped, now
        )
    ctx.stats["routed"] += 1
    return d


def _add_hop(
    uow: UnitOfWork,
    case_id: str,
    case_number: str,
    *,
    hop: int,
    action: str,
    from_code: str,
    from_name: str,
    to_code: str,
    to_name: str,
    reason: str,
    actor: str,
    manual: bool,
    final: bool,
    transfer_due: date | None,
    received_at: datetime,
    now: datetime,
    extra: dict[str, Any],
) -> CaseRouted:
    uow.add(
        hops,
        {
            "case_id": case_id,
            "hop": hop,
            "case_number": case_number,
            "action": action,
            "from_unit_code": from_code,
            "from_unit_name": from_name,
            "to_unit_code": to_code,
            "to_unit_name": to_name,
            "reason": reason,
            "actor": actor,
            "needs_manual_triage": manual,
            "final": final,
            "transfer_due": transfer_due,
            "received_at": received_at,
            "routed_at": now,
        },
    )
    routed = CaseRouted(
        case_id=case_id,
        case_number=case_number,
        hop=hop,
        action=action,  # type: ignore[arg-type]
        from_unit_code=from_code,
        from_unit_name=from_name,
        to_unit_code=to_code,
        to_unit_name=to_name,
        reason=reason,
        routed_at=now,
        received_at=received_at,
        needs_manual_triage=manual,
        final=final,
        transfer_due=transfer_due,
        actor=actor,
        **extra,
    )
    _emit(uow, routed, now)
    return routed


# --- corrections ---------------------------------------------------------------------------


async def get_case_or_raise(*, session: AsyncSession, case_id: str) -> Any:
    row = (await session.execute(select(cases).where(cases.c.case_id == case_id))).first()
    if row is None:
        raise CaseNotFound(case_id)
    return row


async def _last_hop(session: AsyncSession, case_id: str) -> Any:
    return (
        await session.execute(
            select(hops).where(hops.c.case_id == case_id).order_by(hops.c.hop.desc()).limit(1)
        )
    ).one()


def _carry(case: Any) -> dict[str, Any]:
    return {
        "supervising_code": case.supervising_code,
        "category": case.category,
        "kind": case.kind,
        "legal_channel": case.legal_channel == "legal",
        "confidential": case.confidential,
    }


async def object_to_case(
    *,
    uow: UnitOfWork,
    ctx: RoutingContext,
    case_id: str,
    department_code: str,
    reason: str,
    actor: str,
    now: datetime,
) -> CaseRouted:
    """A23: the body a case was sent to objects that it is outside its remit, within the
    working-day window; the case goes back to the office that sent it, for triage."""
    session = uow.session
    case = await get_case_or_raise(session=session, case_id=case_id)
    _refuse_watched(case)
    if case.status != "routed":
        raise Conflict("该件已并案或办结，不能提出异议", "the case is linked or closed")
    if case.holder_code != department_code:
        raise Conflict("该件不在本单位办理，不能提出异议", "the case is not held by this body")
    last = await _last_hop(session, case_id)
    if last.from_unit_code == last.to_unit_code:
        raise Conflict(
            "本单位直接办理的事项不适用异议退回",
            "a case the office handles itself cannot be objected to",
        )
    closes = add_working_days(local_date(case.holder_since), ctx.rules.objection_working_days)
    if local_date(now) > closes:
        raise Conflict(
            f"异议期限已于{closes:%Y年%m月%d日}届满（收到之日起{ctx.rules.objection_working_days}个工作日）",
            f"the objection window closed on {closes.isoformat()}",
            window_closed_on=closes.isoformat(),
        )
    routed = _add_hop(
        uow,
        case_id,
        case.case_number,
        hop=last.hop + 1,
        action="退回",
        from_code=last.to_unit_code,
        from_name=last.to_unit_name,
        to_code=last.from_unit_code,
        to_name=last.from_unit_name,
        reason=f"承办单位提出异议：{reason}",
        actor=actor,
        manual=True,
        final=True,
        transfer_due=None,
        received_at=case.received_at,
        now=now,
        extra=_carry(case),
    )
    back = ctx.tree.department(last.from_unit_code)
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(
            holder_code=last.from_unit_code,
            holder_since=now,
            responsible_unit_code=back.unit if back else case.responsible_unit_code,
        )
    )
    return routed


async def reassign_case(
    *,
    uow: UnitOfWork,
    ctx: RoutingContext,
    case_id: str,
    to_department_code: str,
    reason: str,
    actor: str,
    now: datetime,
) -> CaseRouted:
    """A supervisor sends the case to another body (改派), with a full audit trail."""
    session = uow.session
    case = await get_case_or_raise(session=session, case_id=case_id)
    dept = ctx.tree.department(to_department_code)
    if dept is None:
        raise Conflict(
            f"部门代码不存在：{to_department_code}", f"unknown department {to_department_code}"
        )
    _refuse_watched(case)
    if case.status != "routed":
        raise Conflict("该件已并案或办结，不能改派", "the case is linked or closed")
    if case.holder_code == dept.code:
        raise Conflict("该件已在该单位办理", "the case is already held by that body")
    last = await _last_hop(session, case_id)
    days = ctx.rules.transfer_days_from(ctx.tree.units[dept.unit].level)
    routed = _add_hop(
        uow,
        case_id,
        case.case_number,
        hop=last.hop + 1,
        action="改派",
        from_code=last.to_unit_code,
        from_name=last.to_unit_name,
        to_code=dept.code,
        to_name=dept.name,
        reason=f"改派：{reason}",
        actor=actor,
        manual=False,
        final=True,
        transfer_due=local_date(now) + timedelta(days=days),
        received_at=case.received_at,
        now=now,
        extra=_carry(case),
    )
    await session.execute(
        update(cases)
        .where(cases.c.case_id == case_id)
        .values(holder_code=dept.code, holder_since=now, responsible_unit_code=dept.unit)
    )
    return routed


async def list_hops(*, session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(select(hops).where(hops.c.case_id == case_id).order_by(hops.c.hop))
    return [dict(r._mapping) for r in rows]


async def case_view(*, session: AsyncSession, case_id: str, rules: Rules) -> dict[str, Any]:
    """The case, its category's name beside its code, and its hops."""
    case = await get_case_or_raise(session=session, case_id=case_id)
    rule = rules.categories.get(case.category or "")
    return {
        **dict(case._mapping),
        "category_name": rule.name if rule else None,
        "hops": await list_hops(session=session, case_id=case_id),
    }


async def close_case(*, session: AsyncSession, case_id: str) -> None:
    """The case was closed: a repeat of it is a new case from now on."""
    await session.execute(update(cases).where(cases.c.case_id == case_id).values(status="closed"))
