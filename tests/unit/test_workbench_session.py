"""The workbench's session rules, pure: who is logged in, the CSRF token, where a login may
send the browser, and how a service's refusal becomes what a form shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request
from xinfang_shared.auth.models import Role
from xinfang_shared.auth.security import Principal, issue_token
from xinfang_shared.org import default_tree
from xinfang_workbench.api import Api, NotFound, Refused, refusal
from xinfang_workbench.pages import date_zh, datetime_zh, home_of, nav_for
from xinfang_workbench.session import (
    COOKIE,
    CrossSite,
    LoginRequired,
    User,
    check_post,
    csrf_token,
    safe_next,
    user_of,
)

SECRET = "unit-test-secret-of-thirty-two-bytes!"
PUBLIC = "http://127.0.0.1:8000"


def request(
    method: str = "GET", path: str = "/todo", headers: dict[str, str] | None = None
) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request(
        {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": b"page=2",
            "headers": raw,
            "scheme": "http",
            "server": ("127.0.0.1", 8000),
        }
    )


def token(role: Role = Role.HANDLER, *, ttl_s: int = 600, issued: datetime | None = None) -> str:
    p = Principal(username="qinghe.zrzy", name="承办人", role=role, org_code="339922-zrzy")
    return issue_token(p, secret=SECRET, ttl_s=ttl_s, now=issued or datetime.now(UTC))


def _user(t: str) -> User:
    return user_of(
        request(headers={"cookie": f"{COOKIE}={t}"}),
        secret=SECRET,
        tree=default_tree(),
        api=Api({}).as_user(t),
    )


def test_a_valid_cookie_names_the_user_with_the_unit_by_name() -> None:
    t = token()
    user = _user(t)
    assert user.username == "qinghe.zrzy"
    assert user.role_label == "承办人"
    assert user.org_label == "清河县自然资源和规划局"
    assert user.csrf == csrf_token(t, SECRET)


@pytest.mark.parametrize(
    ("cookie", "expired"),
    [
        (None, False),
        ("not-a-token", True),
        ("EXPIRED", True),
    ],
)
def test_no_usable_session_sends_to_the_login_and_back(cookie: str | None, expired: bool) -> None:
    if cookie == "EXPIRED":
        cookie = token(ttl_s=60, issued=datetime.now(UTC) - timedelta(hours=1))
    headers = {"cookie": f"{COOKIE}={cookie}"} if cookie else {}
    api = Api({}).as_user(cookie) if cookie else None
    with pytest.raises(LoginRequired) as caught:
        user_of(request(headers=headers), secret=SECRET, tree=default_tree(), api=api)
    assert caught.value.next_url == "/todo?page=2"
    assert caught.value.expired is expired


def test_a_token_signed_with_another_secret_is_no_session() -> None:
    other = issue_token(
        Principal(username="x", name="x", role=Role.ADMIN, org_code="339900"),
        secret="another-secret-of-thirty-two-bytes!!",
        ttl_s=600,
        now=datetime.now(UTC),
    )
    with pytest.raises(LoginRequired):
        user_of(
            request(headers={"cookie": f"{COOKIE}={other}"}),
            secret=SECRET,
            tree=default_tree(),
            api=Api({}).as_user(other),
        )


def test_the_csrf_token_belongs_to_one_session() -> None:
    a, b = token(), token(Role.ADMIN)
    assert csrf_token(a, SECRET) == csrf_token(a, SECRET)
    assert csrf_token(a, SECRET) != csrf_token(b, SECRET)
    assert csrf_token(a, SECRET) != csrf_token(a, SECRET + "x")


def test_a_post_needs_this_sites_origin_and_the_sessions_csrf_token() -> None:
    t = token()
    user = _user(t)
    good = csrf_token(t, SECRET)
    same = {"sec-fetch-site": "same-origin"}
    check_post(request("POST", headers=same), user=user, sent_csrf=good, public_url=PUBLIC)
    with pytest.raises(CrossSite):  # another site's page
        check_post(
            request("POST", headers={"sec-fetch-site": "cross-site"}),
            user=user,
            sent_csrf=good,
            public_url=PUBLIC,
        )
    with pytest.raises(CrossSite):  # a sibling port (SameSite alone lets it through)
        check_post(
            request("POST", headers={"origin": "http://127.0.0.1:8004"}),
            user=user,
            sent_csrf=good,
            public_url=PUBLIC,
        )
    for sent in (None, "", csrf_token(token(Role.ADMIN), SECRET)):
        with pytest.raises(CrossSite):  # no token, or another session's
            check_post(request("POST", headers=same), user=user, sent_csrf=sent, public_url=PUBLIC)
    # reading is never refused
    check_post(request("GET"), user=user, sent_csrf=None, public_url=PUBLIC)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/cases/abc?x=1", "/cases/abc?x=1"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/login?next=/x", "/"),
        ("", "/"),
        (None, "/"),
        ("/todo\x00", "/"),
    ],
)
def test_a_login_sends_the_browser_only_to_a_page_of_this_site(
    target: str | None, expected: str
) -> None:
    assert safe_next(target) == expected


def test_a_422_becomes_each_fields_chinese_message() -> None:
    body = {
        "error": "validation_error",
        "message": "提交的数据有误，请按提示修改",
        "message_en": "the request is invalid",
        "errors": [
            {
                "field": "petitioners.0.id_number",
                "code": "id",
                "message": "身份证号校验位错误",
                "message_en": "bad check digit",
            },
            {"field": "content", "code": "short", "message": "至少 5 个字", "message_en": "short"},
        ],
    }
    r = refusal(422, body)
    assert isinstance(r, Refused) and not isinstance(r, NotFound)
    assert r.message == "提交的数据有误，请按提示修改"
    assert r.errors == {"petitioners.0.id_number": "身份证号校验位错误", "content": "至少 5 个字"}
    assert isinstance(refusal(404, {"message": "案件不存在"}), NotFound)
    assert refusal(409, "not json").message == "请求未被接受"


def test_each_role_starts_on_its_own_page_and_sees_only_its_menu() -> None:
    assert home_of(Role.REGISTRAR) == "/register"
    assert home_of(Role.HANDLER) == "/todo"
    assert home_of(Role.ADMIN) == "/admin/users"
    assert "/admin/users" not in {i.href for i in nav_for(Role.HANDLER)}
    assert "/register" not in {i.href for i in nav_for(Role.SUPERVISOR)}
    assert all(any(i.href == "/messages" for i in nav_for(r)) for r in Role if r != Role.SERVICE)


def test_dates_read_in_chinese_in_the_deployments_time_zone() -> None:
    assert date_zh("2026-12-01") == "2026年12月1日"
    assert datetime_zh("2026-11-30T16:30:00+00:00") == "2026年12月1日 00:30"
    assert date_zh(None) == ""


def test_an_event_told_to_several_recipients_is_one_message() -> None:
    from xinfang_workbench.live.views import one_per_event

    def n(seq: int, event: str, who: str) -> dict[str, object]:
        return {"seq": seq, "source_event_id": event, "recipient_name": who, "title": event}

    rows = one_per_event(
        [
            n(1, "a", "清河县信访局"),
            n(2, "a", "清河县领导"),
            n(3, "b", "清河县信访局"),
            n(4, "a", "江临市"),
        ]
    )
    assert [(r["source_event_id"], r["seq"]) for r in rows] == [("a", 4), ("b", 3)]
    assert rows[0]["recipients"] == ["清河县信访局", "清河县领导", "江临市"]
