"""The workbench's page tests run against a stand-in of the reports API (tests/fake_reports.py):
its answers must have the real service's shapes, or the pages are tested against an API that
does not exist (a periodic report whose figures were an object, not a list, passed here and
failed against the real service). Each stand-in answer is read with the real response model."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel
from xinfang_reports.ledger.schemas import BacklogPage, LedgerPage
from xinfang_reports.periodic.schemas import PeriodicReport
from xinfang_reports.stats.schemas import BreakdownRead, SummaryRead

from tests.fake_reports import reports_app

ANSWERS: list[tuple[str, dict[str, str], type[BaseModel]]] = [
    ("/api/v1/stats/summary", {"from": "2026-01-01", "to": "2026-05-20"}, SummaryRead),
    *[
        ("/api/v1/stats/breakdown", {"by": by, "from": "2026-01-01"}, BreakdownRead)
        for by in ("month", "channel", "kind", "category", "place", "handling")
    ],
    ("/api/v1/ledger/items", {"from": "2026-01-01"}, LedgerPage),
    ("/api/v1/ledger/backlog", {}, BacklogPage),
    (
        "/api/v1/reports/periodic",
        {"period": "quarter", "year": "2026", "number": "1"},
        PeriodicReport,
    ),
    ("/api/v1/reports/periodic", {"period": "year", "year": "2025"}, PeriodicReport),
]


@pytest.mark.parametrize(("path", "params", "model"), ANSWERS)
def test_the_stand_in_answers_as_the_reports_service_does(
    path: str, params: dict[str, str], model: type[BaseModel]
) -> None:
    client = TestClient(reports_app(today=date(2026, 5, 20)))
    r = client.get(path, params=params, headers={"Authorization": "Bearer t"})
    assert r.status_code == 200, r.text
    model.model_validate(r.json())
