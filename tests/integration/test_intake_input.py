"""Issue #13: registration input that a database cannot store, or that cannot be true, is
refused with the platform's 422 and changes nothing; a row the database refuses anyway never
fails the registrations written in the same transaction."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from xinfang_intake.main import create_app
from xinfang_intake.petitions.schemas import PetitionCreate
from xinfang_intake.petitions.writer import RegistrationRefused

from tests.apps import running
from tests.conftest import DB_KIND, Databases
from tests.integration.test_intake import counts, intake_settings, petition

NUL = "\u0000"
JSON_TYPE = {"Content-Type": "application/json"}


def with_nul(path: str) -> dict[str, Any]:
    doc = petition(title="征地补偿", matter_address="清河镇东岗村")
    doc["petitioners"][0]["address"] = "东岗村3组"
    target: Any = doc
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = f"{target[last]}{NUL}"
    return doc


TEXT_FIELDS = [
    "content",
    "title",
    "category",
    "matter_address",
    "matter_location_code",
    "receiving_office_code",
    "petitioners.0.name",
    "petitioners.0.id_number",
    "petitioners.0.phone",
    "petitioners.0.address",
]


async def test_nul_and_impossible_values_are_refused_with_422_and_store_nothing(
    broker: str, databases: Databases
) -> None:
    app = create_app(await intake_settings(databases, broker))
    cases: list[tuple[str, dict[str, Any], str]] = [
        (f"NUL in {path}", with_nul(path), path) for path in TEXT_FIELDS
    ]
    cases += [
        ("received in year 1", petition(received_at="0001-01-01T00:00:00+08:00"), "received_at"),
        ("received next year", petition(received_at="2099-01-01T00:00:00+08:00"), "received_at"),
        (
            "born in 2099",
            petition(petitioners=[{"name": "王建国", "id_number": "110105209901010019"}]),
            "petitioners.0.id_number",
        ),
        ("persons true", petition(persons=True), "persons"),
        ("persons '7'", petition(persons="7"), "persons"),
        ("persons 1000.0", petition(persons=1000.0), "persons"),
        ("persons 2^64", petition(persons=2**64), "persons"),
        ("anonymous 'yes'", petition(anonymous="yes"), "anonymous"),
        ("zero-width name", petition(petitioners=[{"name": "\u200b\u200c\u200d"}]), "petitioners"),
        ("bidi-only name", petition(petitioners=[{"name": "\u202e\u2066"}]), "petitioners"),
        ("content a number", petition(content=12345678), "content"),
        ("petitioners a string", petition(petitioners="王建国"), "petitioners"),
        ("channel a list", petition(channel=["visit"]), "channel"),
        ("received_at a number", petition(received_at=1e308), "received_at"),
        ("lone surrogate", petition(content="补偿款\ud800未发放给我们"), "content"),
        ("lone surrogate channel", petition(channel="\ud800"), "channel"),
        ("huge channel", petition(channel="来" * 100_000), "channel"),
    ]
    async with running(app) as client:
        for label, doc, field in cases:
            raw = json.dumps(doc)  # \u escapes: a lone surrogate travels as JSON allows
            r = await client.post("/api/v1/petitions", content=raw, headers=JSON_TYPE)
            assert r.status_code == 422, (label, r.status_code, r.text)
            body = r.json()
            assert body["message"] and body["message_en"], label
            assert any(e["field"].startswith(field) for e in body["errors"]), (label, body)
            assert all(e["message"] and e["message_en"] for e in body["errors"]), label
        assert await counts(app) == (0, 0, 0)
        # the documented Chinese channel labels are still accepted
        ok = await client.post("/api/v1/petitions", json=petition(channel="来信", persons=2))
        assert ok.status_code == 201, ok.text
        assert int(ok.json()["case_number"].split("-")[1]) >= 2026
    assert await counts(app) == (1, 1, 1)


@pytest.mark.skipif(DB_KIND != "postgresql", reason="only PostgreSQL refuses NUL in text")
async def test_a_row_the_database_refuses_fails_alone_and_its_batch_mates_are_registered(
    broker: str, databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(await intake_settings(databases, broker))
    # past validation (as a future bug would let it through): a NUL that PostgreSQL refuses
    bad = PetitionCreate.model_validate(petition()).model_copy(
        update={"content": f"补偿款{NUL}未发放"}
    )
    async with running(app) as client:
        writer = app.state.intake.writer

        async def one_bad() -> BaseException | None:
            try:
                await writer.register(bad, idempotency_key=None)
            except BaseException as exc:  # the test looks at what it was
                return exc
            return None

        goods = [client.post("/api/v1/petitions", json=petition()) for _ in range(30)]
        results = await asyncio.gather(*goods[:15], one_bad(), *goods[15:], one_bad())
    answers = [r for r in results if not isinstance(r, BaseException | None)]
    refused = [r for r in results if isinstance(r, BaseException | None)]
    assert [a.status_code for a in answers] == [201] * 30, [a.text for a in answers]
    assert all(isinstance(r, RegistrationRefused) for r in refused), refused
    # they did meet in one batch (which the database refused as a whole)
    assert any("writing one by one" in m for m in caplog.messages)
    assert await counts(app) == (30, 30, 30)


@pytest.mark.skipif(DB_KIND != "postgresql", reason="only PostgreSQL refuses NUL in text")
async def test_a_refused_row_answers_422_not_503_retry(broker: str, databases: Databases) -> None:
    app = create_app(await intake_settings(databases, broker))
    bad = PetitionCreate.model_validate(petition()).model_copy(update={"title": f"补偿{NUL}"})
    async with running(app) as client:
        with pytest.raises(RegistrationRefused):
            await app.state.intake.writer.register(bad, idempotency_key=None)
        ok = await client.post("/api/v1/petitions", json=petition())
        assert ok.status_code == 201
    assert await counts(app) == (1, 1, 1)
