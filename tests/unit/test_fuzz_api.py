"""bench/fuzz_api.py's reading of schemathesis's reports: every request of the HAR is matched
to its operation, 5xx answers and status codes the schema does not document are counted with a
reproduction, and schemathesis's failures are counted per check."""

from __future__ import annotations

from typing import Any

from bench.fuzz_api import (
    Run,
    curl_lines,
    failure_cases,
    failures_per_check,
    match_operation,
    summarize,
)

BASE = "http://127.0.0.1:8003"
SCHEMA: dict[str, Any] = {
    "paths": {
        "/api/v1/cases/{case_id}": {
            "get": {"responses": {"200": {}, "404": {}, "422": {}}},
            "parameters": [],
        },
        "/api/v1/cases/overdue": {"get": {"responses": {"200": {}}}},
        "/api/v1/cases": {"post": {"responses": {"201": {}, "4XX": {}}}},
    }
}


def entry(method: str, path: str, status: int, body: str = "") -> dict[str, Any]:
    url = path if path.startswith("http") else BASE + path
    request: dict[str, Any] = {"method": method, "url": url}
    if body:
        request["postData"] = {"text": body}
    return {"request": request, "response": {"status": status, "content": {"text": "{}"}}}


def test_a_request_is_matched_to_the_most_specific_operation() -> None:
    ops = {("GET", p): set() for p in ("/api/v1/cases/{case_id}", "/api/v1/cases/overdue")}
    assert match_operation("GET", "/api/v1/cases/overdue", ops) == ("GET", "/api/v1/cases/overdue")
    assert match_operation("GET", "/api/v1/cases/abc", ops) == ("GET", "/api/v1/cases/{case_id}")
    assert match_operation("GET", "/api/v1/cases/a/b", ops) is None
    assert match_operation("DELETE", "/api/v1/cases/abc", ops) is None


def test_summary_counts_server_errors_and_undocumented_statuses_with_reproductions() -> None:
    run = Run("supervision", "leader", 1, 3.0, False)
    run.entries = [
        entry("GET", "/api/v1/cases/x?limit=1", 200),
        entry("GET", "/api/v1/cases/y", 500),
        entry("GET", "/api/v1/cases/overdue", 404),  # documents 200 only
        entry("POST", "/api/v1/cases", 409, body='{"a": 1}'),  # 4XX documented
        entry("POST", "/api/v1/cases", 503, body='{"persons": true}'),
        entry("GET", "http://127.0.0.1:9/elsewhere", 500),  # not this service
    ]
    run.report = {"failures": [{"code": "ST103", "title": "Undocumented status code", "count": 2}]}
    out = summarize("supervision", BASE, SCHEMA, [run])
    assert out["requests"] == 5
    assert out["statuses"] == {"200": 1, "404": 1, "409": 1, "500": 1, "503": 1}
    assert out["server_errors"] == 2
    assert {(r["method"], r["path"], r["status"]) for r in out["server_error_examples"]} == {
        ("GET", "/api/v1/cases/y", 500),
        ("POST", "/api/v1/cases", 503),
    }
    assert out["undocumented_statuses"] == {
        "GET /api/v1/cases/overdue → 404": 1,
        "GET /api/v1/cases/{case_id} → 500": 1,
        "POST /api/v1/cases → 503": 1,
    }
    post = next(r for r in out["server_error_examples"] if r["method"] == "POST")
    assert post["body"] == '{"persons": true}' and post["role"] == "leader"
    assert out["failures_per_check"] == {"ST103 Undocumented status code": 2}


def test_reproduction_lines_are_schemathesis_curl_lines_without_tokens() -> None:
    stdout = (
        "Reproduce with:\n\n    curl -X GET -H 'Authorization: Bearer abc.def-ghi' "
        "'http://127.0.0.1:1/x'\n\n    st replay D2fVpr\n"
    )
    assert curl_lines(stdout) == ["curl -X GET -H 'Authorization: Bearer …' 'http://127.0.0.1:1/x'"]
    assert failures_per_check({}) == {}


def test_failure_cases_are_read_from_schemathesis_failures_section() -> None:
    stdout = """
________________________ GET /api/v1/inbox/{person_id} _________________________
1. Test Case ID: D2fVpr

- ST103 Undocumented status code

    Received: 404
    Documented: 200, 422

[404] Not Found:

    `{"error":"not_found"}`

Reproduce with:

    curl -X GET -H 'Authorization: Bearer t0k.en' 'http://127.0.0.1:1/api/v1/inbox/0'

=================================== SUMMARY ====================================
"""
    assert failure_cases(stdout) == [
        {
            "operation": "GET /api/v1/inbox/{person_id}",
            "checks": ["ST103 Undocumented status code"],
            "status": 404,
            "curl": [
                "curl -X GET -H 'Authorization: Bearer …' 'http://127.0.0.1:1/api/v1/inbox/0'"
            ],
        }
    ]


def test_a_stateful_case_keeps_every_step_of_its_reproduction() -> None:
    stdout = """
________________________________ Stateful tests ________________________________
1. Test Case ID: 3dcLfJ
- ST103 Undocumented status code
[409] Conflict:
Reproduce with:
    curl -X GET 'http://127.0.0.1:1/api/v1/alerts?open=true'
    curl -X POST http://127.0.0.1:1/api/v1/alerts/a1/ack
    st replay 3dcLfJ
    curl -X GET http://127.0.0.1:1/unrelated
"""
    [case] = failure_cases(stdout)
    assert case["status"] == 409
    assert case["curl"] == [
        "curl -X GET 'http://127.0.0.1:1/api/v1/alerts?open=true'",
        "curl -X POST http://127.0.0.1:1/api/v1/alerts/a1/ack",
    ]
