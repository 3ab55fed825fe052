"""The running service as one typed object (:class:`Reports`), and the FastAPI dependency
that hands it to a view (:data:`ReportsDep`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from xinfang_shared.org import OrgTree
from xinfang_shared.runtime import ServiceRuntime
from xinfang_shared.timeutil import local_date

from xinfang_reports.config import ReportsSettings


@dataclass
class Reports:
    """What ``bootstrap()`` builds: the runtime (database, broker, clock) and the org tree the
    figures are rolled up and named by."""

    runtime: ServiceRuntime
    settings: ReportsSettings
    tree: OrgTree

    def today(self) -> date:
        """The local date on the service's clock (demo/test clocks move it)."""
        return local_date(self.runtime.clock.now())


async def get_reports(request: Request) -> Reports:
    reports: Reports = request.app.state.reports
    return reports


ReportsDep = Annotated[Reports, Depends(get_reports)]
