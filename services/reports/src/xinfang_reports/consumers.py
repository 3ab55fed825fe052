"""The events the read model is kept from: every case event a figure, a ledger column or a
report needs (:mod:`xinfang_reports.projection` says which and how). Each becomes a patch,
staged in the batch's unit of work and written with the batch's other patches in one upsert
(:func:`xinfang_reports.store.apply`) in the transaction that marks the events processed."""

from __future__ import annotations

from xinfang_shared.consumer import Handler, HandlerContext

from xinfang_reports import projection, store

TOPICS: list[str] = projection.TOPICS


async def _project(ctx: HandlerContext) -> None:
    row = projection.patch(ctx.envelope, ctx.payload)
    if row is not None:
        ctx.uow.defer(store.apply, row)


def handlers() -> dict[str, Handler]:
    return {model.TYPE: _project for model in projection.PROJECTORS}
