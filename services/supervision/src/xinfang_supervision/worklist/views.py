"""The worklist API: ``GET /api/v1/worklist``, the 待办/督办 list the workbench shows (a
handler its own unit's cases, everyone else the cases handled or supervised in their subtree)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from xinfang_shared.auth.deps import CurrentScope, get_principal
from xinfang_shared.runtime import SessionDep
from xinfang_shared.text import SingleLine
from xinfang_shared.timeutil import local_date

from xinfang_supervision.cases.access import well_formed
from xinfang_supervision.deps import SupervisionDep
from xinfang_supervision.lifecycle import State
from xinfang_supervision.worklist import service
from xinfang_supervision.worklist.schemas import WorklistQuery, WorklistRead, WorklistSort

router = APIRouter(
    prefix="/api/v1", tags=["supervision 督办"], dependencies=[Depends(get_principal)]
)
MAX_CASE_IDS = 200
Code = Annotated[SingleLine, Query(max_length=40)]


def _case_ids(raw: str | None) -> tuple[str, ...] | None:
    """The comma-separated ids (intake's search hits): 422 for more than 200 or a malformed one."""
    if raw is None:
        return None
    ids = tuple(i.strip() for i in raw.split(",") if i.strip())
    problem = None
    if len(ids) > MAX_CASE_IDS:
        problem = (f"最多 {MAX_CASE_IDS} 个案件编号", f"at most {MAX_CASE_IDS} case ids")
    elif not all(well_formed(i) for i in ids):
        problem = ("案件编号格式无效", "a case id is malformed")
    if problem:
        raise RequestValidationError(
            [
                {
                    "type": "case_ids",
                    "loc": ("query", "case_ids"),
                    "msg": problem[1],
                    "input": None,
                    "ctx": {"zh": problem[0]},
                }
            ]
        )
    return ids


@router.get(
    "/worklist",
    summary="待办/督办列表 / the caller's worklist, filtered, sorted and paged",
    response_model=WorklistRead,
)
async def worklist(
    sup: SupervisionDep,
    scope: CurrentScope,
    session: SessionDep,
    status: Annotated[list[State] | None, Query(description="案件状态（可重复）")] = None,
    category: Annotated[Code | None, Query(description="事项类别代码")] = None,
    place: Annotated[
        Code | None, Query(description="发生地单位代码（含其下级，如乡镇含其村）")
    ] = None,
    due_within: Annotated[
        int | None, Query(ge=0, le=3650, description="最近期限在今天起 N 日内（含已超期）")
    ] = None,
    overdue: Annotated[bool | None, Query(description="最近期限已超期（false：未超期）")] = None,
    backlog: Annotated[bool | None, Query(description="积案")] = None,
    mine: Annotated[bool, Query(description="我包案的（包案领导为本人账号）")] = False,
    case_number: Annotated[Code | None, Query(description="案件编号前缀")] = None,
    case_ids: Annotated[
        str | None, Query(max_length=8000, description="逗号分隔的案件 ID（最多 200 个）")
    ] = None,
    open: Annotated[
        bool | None, Query(description="仅未办结的案件（默认是；指定 status 时不限）")
    ] = None,
    sort: Annotated[WorklistSort, Query(description="排序")] = WorklistSort.DUE,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> WorklistRead:
    q = WorklistQuery(
        status=tuple(status or ()),
        category=category,
        place=place,
        due_within=due_within,
        overdue=overdue,
        backlog=backlog,
        mine=mine,
        case_number=case_number,
        case_ids=_case_ids(case_ids),
        open=open,
        sort=sort,
        page=page,
        size=size,
    )
    today = local_date(sup.runtime.clock.now())
    return await service.worklist(session=session, scope=scope, q=q, today=today)
