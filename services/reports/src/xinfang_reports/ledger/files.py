"""A ledger as a download: the rows streamed from the database in chunks into an .xlsx on a
temporary file (written in a worker thread, chunk by chunk, so the event loop keeps serving)
then streamed back, or straight into a streamed .csv. Memory stays flat for 100k+ rows."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from typing import IO, Any

from fastapi.responses import StreamingResponse
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from xinfang_reports.ledger.export import (
    CSV_TYPE,
    XLSX_TYPE,
    Column,
    LedgerWorkbook,
    content_disposition,
    csv_header,
    csv_lines,
)
from xinfang_reports.ledger.service import stream

ToRow = Callable[[Any], dict[str, Any]]
READ_SIZE = 1 << 16


async def _file_chunks(f: IO[bytes]) -> AsyncIterator[bytes]:
    try:
        while chunk := await asyncio.to_thread(f.read, READ_SIZE):
            yield chunk
    finally:
        f.close()


async def xlsx_response(
    *,
    sessions: async_sessionmaker[AsyncSession],
    stmt: Select[Any],
    to_row: ToRow,
    columns: Sequence[Column],
    sheet: str,
    filename: str,
    fallback: str,
) -> StreamingResponse:
    """Write the workbook, then answer with it. The file is unlinked as soon as it is open
    for reading: nothing is left behind, whether the download finishes or not."""
    fd, path = tempfile.mkstemp(prefix="xf-ledger-", suffix=".xlsx")
    os.close(fd)
    try:
        book = await asyncio.to_thread(LedgerWorkbook, path, sheet, columns)
        async for chunk in stream(sessions=sessions, stmt=stmt):
            await asyncio.to_thread(book.add, map(to_row, chunk))
        await asyncio.to_thread(book.close)
        f = await asyncio.to_thread(open, path, "rb")  # closed by _file_chunks
    finally:
        os.unlink(path)
    size = os.fstat(f.fileno()).st_size
    return StreamingResponse(
        _file_chunks(f),
        media_type=XLSX_TYPE,
        headers={
            "Content-Disposition": content_disposition(filename, fallback),
            "Content-Length": str(size),
        },
    )


def csv_response(
    *,
    sessions: async_sessionmaker[AsyncSession],
    stmt: Select[Any],
    to_row: ToRow,
    columns: Sequence[Column],
    filename: str,
    fallback: str,
) -> StreamingResponse:
    """The rows as CSV (UTF-8 with a BOM), streamed a chunk at a time as they are read."""

    async def body() -> AsyncIterator[bytes]:
        yield csv_header(columns)
        async for chunk in stream(sessions=sessions, stmt=stmt):
            # in a worker thread, like the workbook's: the event loop keeps serving meanwhile
            yield await asyncio.to_thread(csv_lines, columns, map(to_row, chunk))

    return StreamingResponse(
        body(),
        media_type=CSV_TYPE,
        headers={"Content-Disposition": content_disposition(filename, fallback)},
    )


async def ledger_file(
    *,
    sessions: async_sessionmaker[AsyncSession],
    stmt: Select[Any],
    to_row: ToRow,
    columns: Sequence[Column],
    title: str,
    span: str,
    ascii_name: str,
    xlsx: bool,
) -> StreamingResponse:
    """The ledger ``title`` (the sheet's name too) as .xlsx or .csv, named ``<title>_<span>``
    (``ascii_name`` for clients that cannot read a UTF-8 file name)."""
    if xlsx:
        return await xlsx_response(
            sessions=sessions,
            stmt=stmt,
            to_row=to_row,
            columns=columns,
            sheet=title,
            filename=f"{title}_{span}.xlsx",
            fallback=f"{ascii_name}.xlsx",
        )
    return csv_response(
        sessions=sessions,
        stmt=stmt,
        to_row=to_row,
        columns=columns,
        filename=f"{title}_{span}.csv",
        fallback=f"{ascii_name}.csv",
    )
