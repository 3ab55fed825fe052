"""Password hashing and tokens. Pure: no I/O, the time is passed in.

Access tokens are JWTs signed with HS256 and the deployment's ``XF_AUTH_SECRET``; every service
of a deployment shares the secret, so any of them can check a token another one issued. A
service calling another one sends a :func:`service_token` (role ``service``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from xinfang_shared.auth.models import Role

ALGORITHM = "HS256"
ISSUER = "xinfang"
AUDIENCE = "xinfang"

PrincipalKind = Literal["user", "service"]
TokenProblem = Literal["expired", "bad_signature", "malformed", "wrong_audience", "revoked"]

# argon2id with the library's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash (salt and parameters included) to store instead of the password."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """True if ``password`` matches; False on a mismatch or a stored hash that is not argon2."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """Who is calling: a person with an account, or a service."""

    username: str
    name: str
    role: Role
    org_code: str  # an org unit code or a department code
    kind: PrincipalKind = "user"
    # when the token was issued (epoch seconds, to the millisecond; 0 when not from a token):
    # a revocation refuses the tokens issued before it
    issued_at: float = field(default=0, compare=False)


_TOKEN_MESSAGES: dict[TokenProblem, tuple[str, str]] = {
    "expired": ("登录已过期，请重新登录", "the token has expired; log in again"),
    "bad_signature": (
        "登录凭证无效（签名不符），请重新登录",
        "the token's signature is invalid; log in again",
    ),
    "malformed": ("登录凭证格式错误，请重新登录", "the token is malformed; log in again"),
    "wrong_audience": (
        "登录凭证不是本系统签发的，请重新登录",
        "the token was not issued for this system; log in again",
    ),
    "revoked": (
        "账号已停用或登录凭证已被撤销，请重新登录",
        "the account was disabled or its tokens revoked; log in again",
    ),
}


class InvalidToken(Exception):
    """The token cannot be trusted; ``message``/``message_en`` say why, for the user."""

    def __init__(self, problem: TokenProblem, detail: str = "") -> None:
        self.problem: TokenProblem = problem
        self.message, self.message_en = _TOKEN_MESSAGES[problem]
        self.detail = detail
        super().__init__(f"{problem}: {detail}" if detail else problem)


def issue_token(principal: Principal, *, secret: str, ttl_s: int, now: datetime) -> str:
    """A signed access token for ``principal``, valid from ``now`` for ``ttl_s`` seconds.
    ``now`` is the wall clock (token time is security, not business time: a demo clock's jump
    logs nobody out). ``iat`` keeps milliseconds, rounded down: a token issued right after a
    revocation, in the same second, is newer than it; one issued before it never is."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    issued = math.floor(now.timestamp() * 1000) / 1000
    iat: int | float = int(issued) if issued.is_integer() else issued
    claims: dict[str, Any] = {
        "sub": principal.username,
        "name": principal.name,
        "role": principal.role.value,
        "org": principal.org_code,
        "kind": principal.kind,
        "iat": iat,
        "exp": int(issued) + ttl_s,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, now: datetime | None = None) -> Principal:
    """The principal a token names, or :class:`InvalidToken`. ``now`` (default: the wall clock)
    decides expiry; never the demo clock (``xf-clock``), which moves business time only."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            # expiry is checked below against ``now``, not against the wall clock
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["sub", "role", "org", "iat", "exp", "iss", "aud"],
            },
        )
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError) as exc:
        raise InvalidToken("bad_signature", str(exc)) from None
    except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
        raise InvalidToken("wrong_audience", str(exc)) from None
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed", str(exc)) from None
    exp = claims["exp"]
    if not isinstance(exp, int) or isinstance(exp, bool):
        raise InvalidToken("malformed", "exp is not an integer")
    current = now or datetime.now(UTC)
    if exp <= current.timestamp():
        raise InvalidToken("expired", f"expired at {datetime.fromtimestamp(exp, UTC).isoformat()}")
    try:
        role = Role(claims["role"])
    except ValueError:
        raise InvalidToken("malformed", f"unknown role {claims['role']!r}") from None
    kind = claims.get("kind", "user")
    sub, org = claims["sub"], claims["org"]
    if kind not in ("user", "service") or not isinstance(sub, str) or not isinstance(org, str):
        raise InvalidToken("malformed", "bad sub, org or kind claim")
    if (kind == "service") != (role is Role.SERVICE):
        raise InvalidToken("malformed", "role service goes with kind service only")
    iat = claims["iat"]
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not math.isfinite(iat):
        raise InvalidToken("malformed", "iat is not a number")
    return Principal(
        username=sub,
        name=str(claims.get("name") or sub),
        role=role,
        org_code=org,
        kind=kind,
        issued_at=iat,
    )


def service_principal(service_name: str, *, org_code: str) -> Principal:
    return Principal(
        username=f"service:{service_name}",
        name=service_name,
        role=Role.SERVICE,
        org_code=org_code,
        kind="service",
    )


def service_token(
    service_name: str,
    *,
    secret: str,
    ttl_s: int,
    org_code: str,
    now: datetime | None = None,
) -> str:
    """A token for ``service_name`` calling another service of the deployment: role ``service``,
    scoped to ``org_code`` (normally the deployment's ``org_scope``, its root)."""
    return issue_token(
        service_principal(service_name, org_code=org_code),
        secret=secret,
        ttl_s=ttl_s,
        now=now or datetime.now(UTC),
    )


def actor_name(principal: Principal, named: str | None = None) -> str:
    """Who is recorded as having acted (责任倒查): the logged-in person as "name（username）";
    a service account acts for the person it names, else under its own name."""
    if principal.kind == "service":
        return (named or principal.name)[:60]
    return f"{principal.name}（{principal.username}）"[:60]
