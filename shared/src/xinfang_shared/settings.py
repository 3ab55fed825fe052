"""Settings common to every service, read from environment variables (prefix ``XF_``).

Defaults give the embedded setup: Tansu on 127.0.0.1:9092 and SQLite files under ``var/``.
PostgreSQL and a real Kafka cluster are chosen by environment only, e.g.::

    XF_KAFKA_BOOTSTRAP_SERVERS=kafka-1:9092,kafka-2:9092
    XF_INTAKE_DATABASE_URL=postgresql+asyncpg://xinfang@db/xinfang_intake
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from xinfang_shared.levels import Deployment

_ORG_CODE = re.compile(r"^\d{6}(\d{3})?(\d{3})?$")

# Works out of the box for the demo and the tests. Anyone who knows it can forge any user's
# token: every real deployment sets its own XF_AUTH_SECRET.
DEMO_AUTH_SECRET = "xinfang-DEMO-ONLY-auth-secret-set-XF_AUTH_SECRET-in-production"
DEMO_ID_HASH_SALT = "xinfang-demo-salt-change-me"

# The variables whose default is a public demo value: outside demo mode (XF_DEMO) a service
# refuses to start while any of its settings still holds that default.
SECRET_VARIABLES = ("XF_AUTH_SECRET", "XF_INFORMANT_KEY", "XF_ID_HASH_SALT")


class DemoSecretsRefused(SystemExit):
    """A service would start on public demo secrets outside demo mode. A ``SystemExit``: the
    process ends with this message (Chinese first) and no traceback."""

    def __init__(self, variables: list[str]) -> None:
        names = ", ".join(variables)
        super().__init__(
            f"拒绝启动：{names} 未设置或仍是公开的演示值，任何人都可据此伪造登录或读取保密信息。"
            f"请为每个变量设置本部署自己的随机值；仅在演示或测试时设置 XF_DEMO=true。\n"
            f"refusing to start: {names} unset or set to the public demo value, which lets "
            f"anyone forge logins or read sealed data. Set each to a random value of this "
            f"deployment's own; only a demo or a test sets XF_DEMO=true."
        )
        self.variables = variables


class ClockMode(StrEnum):
    SYSTEM = "system"  # production: the wall clock
    MANUAL = "manual"  # demo/test: wall clock plus an offset moved by `xf-clock advance`


def default_sqlite_url(service: str) -> str:
    return f"sqlite+aiosqlite:///{Path('var') / f'{service}.db'}"


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="XF_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_session_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="Consumer-group session timeout. Tansu delays a group join by half of it.",
    )
    db_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=600,
        description="Longest wait on the database (pool, lock, statement) before giving up.",
    )
    db_pool_size: int = Field(
        default=10,
        ge=1,
        le=500,
        description="Steady database connections per process (and twice as many overflow).",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=30_000,
        description="How long a consumer fetch may wait for data. Tansu holds a fetch for all "
        "of it even when data arrives, so it bounds the latency of every hop.",
    )
    consumer_batch: int = Field(default=500, ge=1, le=10_000, description="events per transaction")
    consumer_batch_wait_s: float = Field(default=0.01, gt=0, le=5)
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    kafka_group_suffix: str = Field(
        default="",
        max_length=40,
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Appended to every consumer group id (xinfang-<service>-<scope><suffix>): a "
        "shadow deployment, or a test, reads the cluster in groups of its own.",
    )
    org_scope: str = Field(
        default="339900",
        description="Administrative-division code of the org subtree this deployment serves.",
    )
    org_lower_scopes: str = Field(
        default="",
        description="Comma-separated roots of the subtrees below org_scope that run their own "
        "deployment (a county lists its townships that do): this level watches them but does "
        "not route, supervise or notify for them. Empty: this level serves its whole subtree.",
    )
    auth_secret: str = Field(
        default=DEMO_AUTH_SECRET,
        min_length=32,
        validation_alias="XF_AUTH_SECRET",
        description="HS256 key that signs and checks access tokens (also service tokens); "
        "the same on every service of a deployment. The default is a public demo value. "
        "Passed to the constructor as XF_AUTH_SECRET=..., like the variable.",
    )
    auth_token_ttl_min: int = Field(
        default=480, ge=1, le=7 * 24 * 60, description="Lifetime of an access token, minutes."
    )
    clock_mode: ClockMode = ClockMode.SYSTEM
    demo: bool = Field(
        default=False,
        validation_alias="XF_DEMO",
        description="Demo or test mode: the services may run on the public demo secrets. "
        "Off (the default), a service whose secret is unset or a demo value refuses to start.",
    )
    max_body_bytes: int = Field(
        default=1_000_000,
        ge=10_000,
        le=100_000_000,
        description="Largest request body the service reads; larger ones get 413.",
    )
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"

    @field_validator("org_scope")
    @classmethod
    def _org_code(cls, v: str) -> str:
        if not _ORG_CODE.match(v):
            raise ValueError(
                "org_scope must be an administrative-division code of 6, 9 or 12 digits"
            )
        return v

    @field_validator("org_lower_scopes")
    @classmethod
    def _lower_codes(cls, v: str) -> str:
        codes = [c.strip() for c in v.split(",") if c.strip()]
        bad = [c for c in codes if not _ORG_CODE.match(c)]
        if bad:
            raise ValueError(
                f"org_lower_scopes must be administrative-division codes; not: {', '.join(bad)}"
            )
        return ",".join(codes)

    @property
    def deployment(self) -> Deployment:
        lower = tuple(c for c in self.org_lower_scopes.split(",") if c)
        return Deployment(scope=self.org_scope, lower=lower)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _servers(cls, v: str) -> str:
        parts = [p.strip() for p in v.split(",") if p.strip()]
        if not parts or any(":" not in p for p in parts):
            raise ValueError("kafka_bootstrap_servers must be host:port[,host:port...]")
        return ",".join(parts)

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        v = v.upper()
        if v not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("log_level must be DEBUG, INFO, WARNING or ERROR")
        return v

    @property
    def bootstrap_list(self) -> list[str]:
        return self.kafka_bootstrap_servers.split(",")

    def demo_secrets_in_use(self) -> list[str]:
        """The secret variables (:data:`SECRET_VARIABLES`) of this service's settings that are
        unset or hold their default, the public demo value."""
        found = []
        for name, info in type(self).model_fields.items():
            alias = info.validation_alias
            if alias in SECRET_VARIABLES and getattr(self, name) == info.get_default(
                call_default_factory=True
            ):
                found.append(str(alias))
        return sorted(found)

    def refuse_demo_secrets(self) -> None:
        """Outside demo mode, :class:`DemoSecretsRefused` while a secret is a demo value."""
        if not self.demo and (found := self.demo_secrets_in_use()):
            raise DemoSecretsRefused(found)
