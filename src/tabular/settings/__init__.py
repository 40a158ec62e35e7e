"""Configuration: frozen Structs read once from `TABULAR_*` variables; a bad value stops start-up."""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Final

import msgspec
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tabular.settings import parsing as value
from tabular.settings.parsing import MIN_SECRET_LENGTH, OTEL_EXTRA_MISSING, SettingsError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["MIN_SECRET_LENGTH", "OTEL_EXTRA_MISSING", "RateSpec", "Settings", "SettingsError"]

DEFAULT_DATABASE_URL: Final = "sqlite+aiosqlite:///tabular.db"
DEFAULT_SECRET_FILE: Final = ".tabular-secret"  # noqa: S105 - a file name, not a secret
AUDIT_CHAIN_LABEL: Final = b"tabular/audit-chain/v1"
"""What the audit chain's key is derived for (`derive_key`): a label no other use of `secret_key` shares."""

_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE_PATTERN: Final = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


class RateSpec(msgspec.Struct, frozen=True):
    """A rate-limit policy: at most `limit` requests in any window of `window` seconds."""

    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> RateSpec:
        """Read `1000/15m`, `20/15m`, `5/s`, `100/1h` (units s, m, h, d)."""
        match = _RATE_PATTERN.match(text)
        if match is None:
            raise ValueError(f"expected COUNT/[N]UNIT with UNIT one of s, m, h, d (e.g. 1000/15m), got {text!r}")
        count, multiple, unit = match.groups()
        limit, window = int(count), int(multiple or 1) * _UNIT_SECONDS[unit]
        if limit < 1 or window < 1:
            raise ValueError(f"count and window must be positive, got {text!r}")
        return cls(limit=limit, window=window)

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}s"


LOOPBACK: Final = ("127.0.0.0/8", "::1/128")

SMALL_BODY: Final = 65_536
"""Bytes a body may have where anyone can send one (`/api/auth…`, `/api/public/…`, set-password)."""

RECENT_SIGN_IN: Final = dt.timedelta(minutes=10)
"""How long a sign-in proves the password for the steps that need a recent proof (MFA, password, keys)."""

DEFAULT_RATE_LIMIT: Final = RateSpec.parse("1000/15m")
DEFAULT_AUTH_RATE_LIMIT: Final = RateSpec.parse("20/15m")
DEFAULT_ACCOUNT_RATE_LIMIT: Final = RateSpec.parse("10/15m")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the application reads from its environment."""

    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    redis_cluster: bool = False
    """`redis_url` names one node of a Redis Cluster; the client discovers the others and routes each key."""
    secret_key: str
    """Signs session tokens; the audit chain's key is derived from it (`audit_key`), so changing it leaves the
    events written before unverifiable."""
    secret_source: str = "settings"  # noqa: S105 - where the secret came from, not a secret
    """Where `secret_key` came from (`TABULAR_SECRET_KEY`, or the file it was kept in), said at start-up."""
    cors_origins: tuple[str, ...] = ()
    rate_limit: RateSpec = DEFAULT_RATE_LIMIT
    auth_rate_limit: RateSpec = DEFAULT_AUTH_RATE_LIMIT
    account_rate_limit: RateSpec = DEFAULT_ACCOUNT_RATE_LIMIT
    """Password attempts on one account (any email, known or not) from addresses it has not signed in from."""
    trusted_proxies: tuple[str, ...] = ()
    """CIDRs whose `X-Forwarded-For` is believed."""
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    debug: bool = False
    auth_cache_ttl: float = 1.0
    """Seconds a resolved identity, key or "not revoked" answer is reused; a change made in another worker
    is seen within this time (one made in the same worker at once)."""
    access_log: bool = True
    """One JSON line per request on standard output, written by a thread (`TABULAR_ACCESS_LOG=0`: none)."""
    log_format: str = "json"
    """The access log's lines: `json`, or `text` for a person reading a terminal (`TABULAR_LOG_FORMAT`)."""
    max_body_size: int = 1_048_576
    """Bytes a request body may have (a 413 beyond); sign-in and public routes allow only `SMALL_BODY`."""
    argon2_time_cost: int = 3
    """argon2id passes over memory per password hash (`TABULAR_ARGON2_TIME_COST`); RFC 9106's second profile."""
    argon2_memory_kib: int = 65_536
    """argon2id memory per password hash, in KiB (`TABULAR_ARGON2_MEMORY_KIB`): 64 MiB, RFC 9106's second profile."""
    metrics: bool = False
    """Serve Prometheus metrics at `/metrics` (`TABULAR_METRICS=true`), to `metrics_allow` only."""
    metrics_allow: tuple[str, ...] = LOOPBACK
    """CIDRs whose clients may read `/metrics` (`TABULAR_METRICS_ALLOW`); others get a 404."""
    webhooks_allow_private: bool = False
    """Let webhook endpoints resolve to loopback, private or link-local addresses (tests, a private network)."""
    webhooks_worker: bool = True
    """Run the webhook delivery worker in this process (`false`: this process only queues; another sends)."""
    webhooks_poll_interval: float = 2.0
    """Seconds the delivery worker waits between looks at the queue when it found nothing to send."""
    webhooks_retry_delay: float = 30.0
    """Seconds before the first retry of a failed delivery; each further retry waits twice as long."""
    otel: bool = False
    """OpenTelemetry tracing, a server span per request (`TABULAR_OTEL=true`; needs the `otel` extra)."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, secret_dir: Path | None = None) -> Settings:
        """Read `TABULAR_*` variables; unset ones take the embedded defaults (SQLite, in-process limiter).

        With no `TABULAR_SECRET_KEY`, a signing secret is created once in `secret_dir` (the working
        directory by default) with 0600 permissions and reused, so sessions survive restarts and
        every worker signs with the same key.
        """
        env = os.environ if environ is None else environ
        read = value.Reader(env)
        secret = read("SECRET_KEY", value.secret_key, None)
        secret_file = (secret_dir or Path.cwd()) / DEFAULT_SECRET_FILE
        return cls(
            database_url=read("DATABASE_URL", normalize_database_url, DEFAULT_DATABASE_URL),
            redis_url=read("REDIS_URL", value.redis_url, None),
            redis_cluster=read("REDIS_CLUSTER", value.boolean, False),  # noqa: FBT003
            secret_key=secret or load_or_create_secret(secret_file),
            secret_source="TABULAR_SECRET_KEY" if secret else str(secret_file),
            cors_origins=read("CORS_ORIGINS", value.origins, ()),
            rate_limit=read("RATE_LIMIT", RateSpec.parse, DEFAULT_RATE_LIMIT),
            auth_rate_limit=read("AUTH_RATE_LIMIT", RateSpec.parse, DEFAULT_AUTH_RATE_LIMIT),
            account_rate_limit=read("ACCOUNT_RATE_LIMIT", RateSpec.parse, DEFAULT_ACCOUNT_RATE_LIMIT),
            trusted_proxies=read("TRUSTED_PROXIES", value.networks, ()),
            host=read("HOST", value.host, "127.0.0.1"),
            port=read("PORT", value.port, 8000),
            workers=read("WORKERS", value.positive_int, 1),
            debug=read("DEBUG", value.boolean, False),  # noqa: FBT003,
            access_log=read("ACCESS_LOG", value.boolean, True),  # noqa: FBT003
            log_format=read("LOG_FORMAT", value.log_format, "json"),
            max_body_size=read("MAX_BODY_SIZE", value.positive_int, 1_048_576),
            argon2_time_cost=read("ARGON2_TIME_COST", value.positive_int, 3),
            argon2_memory_kib=read("ARGON2_MEMORY_KIB", value.argon2_memory, 65_536),
            metrics=read("METRICS", value.boolean, False),  # noqa: FBT003
            metrics_allow=read("METRICS_ALLOW", value.networks, LOOPBACK),
            webhooks_allow_private=read("WEBHOOKS_ALLOW_PRIVATE", value.boolean, False),  # noqa: FBT003
            webhooks_worker=read("WEBHOOKS_WORKER", value.boolean, True),  # noqa: FBT003
            webhooks_poll_interval=read("WEBHOOKS_POLL_INTERVAL", value.positive_float, 2.0),
            webhooks_retry_delay=read("WEBHOOKS_RETRY_DELAY", value.positive_float, 30.0),
            otel=read("OTEL", value.otel, False),  # noqa: FBT003
        )

    @property
    def audit_key(self) -> bytes:
        """The audit chain's HMAC key, derived from `secret_key` for that purpose alone.

        The chain never uses the token signing key itself, and knowing this key (say, from a database-side
        tool that verifies the chain) signs no session.
        """
        return derive_key(self.secret_key, AUDIT_CHAIN_LABEL)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is the embedded SQLite engine."""
        return self.database_url.startswith("sqlite")


def normalize_database_url(url: str) -> str:
    """Accept the usual SQLite / PostgreSQL URLs and pin the async driver we ship."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"not a database URL: {url!r}") from None
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        raise ValueError(f"unsupported database {parsed.drivername!r}; use sqlite:///FILE or postgresql://…")
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def derive_key(server_secret: str, label: bytes) -> bytes:
    """A 256-bit key for one purpose: HKDF-SHA256 of the server secret with the purpose's label.

    The one place a key is made from the server secret, so no two uses share a key and none is the token
    signing key itself.
    """
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(server_secret.encode())


def load_or_create_secret(path: Path) -> str:
    """Return the secret kept in `path`, creating it (0600, exclusively) on first use."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(f"{path}: the stored secret is too short; delete the file to regenerate it") from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(secret + "\n")
    return secret
