"""Passwords, tokens and org scoping (xinfang_shared.auth), on the real demo org tree:
江临市 339900 (city) → 清河县 339922 (county) → 清河镇 339922101 / 柳塘乡 339922102 / 石门镇
339922103 (townships); 临江区 339902 is the neighbouring county."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from pydantic import ValidationError
from sqlalchemy import MetaData
from xinfang_shared import org
from xinfang_shared.auth.models import ROLE_LABELS, Role, users_table
from xinfang_shared.auth.scope import Scope, UnknownOrgCode
from xinfang_shared.auth.security import (
    InvalidToken,
    Principal,
    hash_password,
    issue_token,
    read_token,
    service_token,
    verify_password,
)
from xinfang_shared.settings import DEMO_AUTH_SECRET, CommonSettings

SECRET = "unit-test-secret-unit-test-secret-0123456789"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CITY, COUNTY, NEIGHBOUR = "339900", "339922", "339902"
TOWNSHIPS = ("339922101", "339922102", "339922103")
VILLAGE = "339922101201"  # 东岗村, 清河镇
LAND_BUREAU = "339922-zrzy"  # 清河县自然资源和规划局


def principal(role: Role = Role.SUPERVISOR, org_code: str = COUNTY) -> Principal:
    return Principal(username="zhang.wei", name="张伟", role=role, org_code=org_code)


def scope(role: Role = Role.SUPERVISOR, org_code: str = COUNTY) -> Scope:
    return Scope.of(principal(role, org_code), org.default_tree())


# --- passwords ----------------------------------------------------------------------------


def test_password_hash_is_salted_argon2_and_verifies_only_the_right_password() -> None:
    h1, h2 = hash_password("qinghe-2026"), hash_password("qinghe-2026")
    assert h1.startswith("$argon2id$") and "qinghe-2026" not in h1
    assert h1 != h2  # salted: the same password never gives the same hash
    assert verify_password("qinghe-2026", h1) and verify_password("qinghe-2026", h2)
    assert not verify_password("qinghe-2025", h1)
    assert not verify_password("", h1)


def test_verify_password_says_no_to_a_stored_value_that_is_not_a_hash() -> None:
    assert verify_password("qinghe-2026", "qinghe-2026") is False
    assert verify_password("qinghe-2026", "") is False


# --- tokens -------------------------------------------------------------------------------


def test_token_round_trip_gives_back_the_principal() -> None:
    p = principal(Role.HANDLER, LAND_BUREAU)
    token = issue_token(p, secret=SECRET, ttl_s=3600, now=T0)
    assert read_token(token, secret=SECRET, now=T0 + timedelta(minutes=5)) == p
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "zhang.wei" and claims["org"] == LAND_BUREAU
    assert claims["role"] == "handler" and claims["kind"] == "user"
    assert claims["iss"] == claims["aud"] == "xinfang"
    assert claims["exp"] - claims["iat"] == 3600


def test_token_expires_at_its_ttl_by_the_given_clock() -> None:
    token = issue_token(principal(), secret=SECRET, ttl_s=3600, now=T0)
    assert read_token(token, secret=SECRET, now=T0 + timedelta(seconds=3599)).username
    with pytest.raises(InvalidToken) as caught:
        read_token(token, secret=SECRET, now=T0 + timedelta(seconds=3600))
    assert caught.value.problem == "expired"
    assert caught.value.message == "登录已过期，请重新登录" and "expired" in caught.value.message_en


def _tamper(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_token_whose_claims_were_changed_is_refused() -> None:
    token = issue_token(principal(Role.REGISTRAR), secret=SECRET, ttl_s=3600, now=T0)
    forged = _tamper(token, role="admin", org=CITY)
    with pytest.raises(InvalidToken) as caught:
        read_token(forged, secret=SECRET, now=T0)
    assert caught.value.problem == "bad_signature" and "签名" in caught.value.message


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = issue_token(
        principal(), secret="another-deployment-secret-0123456789", ttl_s=60, now=T0
    )
    with pytest.raises(InvalidToken) as caught:
        read_token(token, secret=SECRET, now=T0)
    assert caught.value.problem == "bad_signature"


def test_an_unsigned_token_is_refused() -> None:
    claims = {"sub": "x", "role": "admin", "org": CITY, "iat": 0, "exp": 2**40}
    unsigned = jwt.encode({**claims, "iss": "xinfang", "aud": "xinfang"}, None, algorithm="none")
    with pytest.raises(InvalidToken) as caught:
        read_token(unsigned, secret=SECRET, now=T0)
    assert caught.value.problem == "bad_signature"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("not-a-token", "malformed"),
        ("", "malformed"),
        # signed with the right secret, but not for this system
        (
            jwt.encode(
                {"sub": "x", "role": "admin", "org": CITY, "iat": 0, "exp": 2**40}
                | {"iss": "xinfang", "aud": "someone-else"},
                SECRET,
            ),
            "wrong_audience",
        ),
        # signed with the right secret, but naming a role that does not exist
        (
            jwt.encode(
                {"sub": "x", "role": "superuser", "org": CITY, "iat": 0, "exp": 2**40}
                | {"iss": "xinfang", "aud": "xinfang"},
                SECRET,
            ),
            "malformed",
        ),
        # a person's token may not claim the machine role
        (
            jwt.encode(
                {"sub": "x", "role": "service", "org": CITY, "iat": 0, "exp": 2**40}
                | {"kind": "user", "iss": "xinfang", "aud": "xinfang"},
                SECRET,
            ),
            "malformed",
        ),
        # no expiry: never accepted
        (
            jwt.encode(
                {"sub": "x", "role": "admin", "org": CITY, "iat": 0}
                | {"iss": "xinfang", "aud": "xinfang"},
                SECRET,
            ),
            "malformed",
        ),
    ],
)
def test_tokens_that_are_not_ours_are_refused_with_a_reason(token: str, problem: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        read_token(token, secret=SECRET, now=T0)
    assert caught.value.problem == problem
    assert caught.value.message and caught.value.message_en


def test_service_token_names_a_service_scoped_to_the_root() -> None:
    token = service_token("routing", secret=SECRET, ttl_s=300, org_code=CITY, now=T0)
    p = read_token(token, secret=SECRET, now=T0 + timedelta(seconds=10))
    assert p.role is Role.SERVICE and p.kind == "service" and p.org_code == CITY
    assert p.username == "service:routing"
    root = Scope.of(p, org.default_tree())
    tree = org.default_tree()
    assert all(root.covers(c) for c in [*tree.units, *tree.departments])
    with pytest.raises(InvalidToken):
        read_token(token, secret=SECRET, now=T0 + timedelta(seconds=300))


# --- scope --------------------------------------------------------------------------------


def test_county_scope_covers_its_townships_villages_and_departments_only() -> None:
    s = scope(Role.SUPERVISOR, COUNTY)
    assert s.unit_code == COUNTY
    for code in (COUNTY, *TOWNSHIPS, VILLAGE, LAND_BUREAU, "339922101-xfb"):
        assert s.covers(code), code
    for code in (CITY, "339900-xfj", NEIGHBOUR, "339902001", "339902-zrzy", "339902001001"):
        assert not s.covers(code), code
    assert not s.covers("999999") and not s.covers("339922-nonexistent")


def test_city_scope_covers_both_counties_and_a_township_scope_not_its_siblings() -> None:
    city = scope(Role.LEADER, CITY)
    assert all(city.covers(c) for c in (CITY, COUNTY, NEIGHBOUR, "339902-gaj", VILLAGE))
    township = scope(Role.SUPERVISOR, "339922101")
    assert township.covers(VILLAGE) and township.covers("339922101-zf")
    assert not township.covers(COUNTY) and not township.covers("339922102")
    assert not township.covers(LAND_BUREAU)  # the county's department is above the township


def test_a_department_principal_is_scoped_to_its_unit() -> None:
    s = scope(Role.HANDLER, LAND_BUREAU)
    assert s.unit_code == COUNTY
    assert s.covers("339922102") and s.covers("339922-rsj")
    assert not s.covers(NEIGHBOUR)


def test_a_handler_may_handle_only_their_own_department() -> None:
    handler = scope(Role.HANDLER, LAND_BUREAU)
    assert handler.may_handle(LAND_BUREAU)
    assert not handler.may_handle("339922-rsj")  # same county, another department
    assert not handler.may_handle(COUNTY)
    supervisor = scope(Role.SUPERVISOR, COUNTY)
    assert supervisor.may_handle("339922-rsj") and supervisor.may_handle("339922101-zf")
    assert not supervisor.may_handle("339902-rsj")


def test_scope_codes_list_the_subtree_for_sql_filters() -> None:
    s = scope(Role.ADMIN, COUNTY)
    assert s.unit_codes >= {COUNTY, *TOWNSHIPS, VILLAGE}
    assert LAND_BUREAU in s.org_codes and "339922103-xfb" in s.org_codes
    assert not {c for c in s.org_codes if c.startswith(("339902", "339900"))}


def test_an_org_code_missing_from_the_tree_has_no_scope() -> None:
    with pytest.raises(UnknownOrgCode) as caught:
        scope(Role.ADMIN, "339988")
    assert "339988" in caught.value.message


# --- settings and table -------------------------------------------------------------------


def test_auth_settings_have_working_defaults_and_read_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("XF_AUTH_SECRET", raising=False)
    monkeypatch.delenv("XF_AUTH_TOKEN_TTL_MIN", raising=False)
    default = CommonSettings()
    assert default.auth_secret == DEMO_AUTH_SECRET and len(DEMO_AUTH_SECRET) >= 32
    assert default.auth_token_ttl_min == 480
    monkeypatch.setenv("XF_AUTH_SECRET", SECRET)
    monkeypatch.setenv("XF_AUTH_TOKEN_TTL_MIN", "30")
    configured = CommonSettings()
    assert configured.auth_secret == SECRET and configured.auth_token_ttl_min == 30
    assert CommonSettings(XF_AUTH_SECRET="k" * 40).auth_secret == "k" * 40


def test_a_short_auth_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XF_AUTH_SECRET", "too-short")
    with pytest.raises(ValidationError, match="XF_AUTH_SECRET"):
        CommonSettings()


def test_users_table_joins_a_service_metadata() -> None:
    metadata = MetaData()
    table = users_table(metadata)
    assert metadata.tables["users"] is table
    assert {
        "id",
        "username",
        "display_name",
        "password_hash",
        "role",
        "org_code",
        "active",
        "created_at",
    } <= set(table.c.keys())
    assert table.c.username.unique


def test_every_role_has_a_chinese_label() -> None:
    assert set(ROLE_LABELS) == set(Role) and ROLE_LABELS[Role.HANDLER] == "承办人"
    assert ROLE_LABELS[Role.REGISTRAR] == "登记员" and ROLE_LABELS[Role.ADMIN] == "管理员"


def test_a_revocation_refuses_the_tokens_issued_before_it_only() -> None:
    from xinfang_shared.auth.revocation import Revocations
    from xinfang_shared.events import TokensRevoked, new_event

    revs = Revocations()
    old = Principal("desk", "赵敏", Role.REGISTRAR, "339922102", issued_at=int(T0.timestamp()))
    assert not revs.revoked(old)
    revs.note("desk", T0 + timedelta(minutes=5))
    assert revs.revoked(old)
    later = Principal(
        "desk", "赵敏", Role.REGISTRAR, "339922102", issued_at=int(T0.timestamp()) + 301
    )
    assert not revs.revoked(later)
    assert not revs.revoked(Principal("other", "x", Role.REGISTRAR, "339922102"))
    revs.note("desk", T0)  # an older revocation arriving late changes nothing
    assert not revs.revoked(later)
    # the event is keyed by the account, not by a case
    env = new_event(
        data=TokensRevoked(username="desk", revoked_at=T0, reason="账号停用", by="admin"),
        source="/test",
        time=T0,
    )
    assert env.subject == "user:desk" and env.payload() == TokensRevoked(
        username="desk", revoked_at=T0, reason="账号停用", by="admin"
    )
