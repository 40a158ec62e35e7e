"""How one `TABULAR_*` value is read.

A parser per kind of value, each raising `ValueError` with what it expected, and the `Reader` that turns
that into a `SettingsError` naming the variable.
"""

from __future__ import annotations

import importlib.util
import ipaddress
from typing import TYPE_CHECKING, Final, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_T = TypeVar("_T")

MIN_SECRET_LENGTH: Final = 32
ARGON2_MIN_MEMORY_KIB: Final = 32
"""argon2's floor for the four lanes tabular hashes with (8 KiB a lane)."""
OTEL_EXTRA_MISSING: Final = (
    "tracing needs the `otel` extra, which is not installed: `uv run --extra otel tabular serve` (or `pip install "
    "'tabular[otel]'`)"
)
OTEL_PACKAGES: Final = ("opentelemetry.sdk", "opentelemetry.instrumentation.asgi")
"""What the `otel` extra brings that `TABULAR_OTEL=true` imports (checked when the variable is read)."""


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


class Reader:
    """Reads one variable through a parser, turning any parse failure into a `SettingsError` naming it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def __call__(self, name: str, parse: Callable[[str], _T], default: _T) -> _T:
        """The variable `TABULAR_{name}` parsed, or `default` when it is unset or blank."""
        variable = f"TABULAR_{name}"
        raw = self._env.get(variable)
        if raw is None or raw.strip() == "":
            return default
        try:
            return parse(raw.strip())
        except ValueError as exc:
            raise SettingsError(f"{variable}: {exc}") from None


def secret_key(raw: str) -> str:
    """A signing secret of at least `MIN_SECRET_LENGTH` characters."""
    if len(raw) < MIN_SECRET_LENGTH:
        raise ValueError(f"must be at least {MIN_SECRET_LENGTH} characters")
    return raw


def redis_url(raw: str) -> str:
    """A redis://, rediss:// or unix:// URL."""
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"expected redis://HOST:PORT/DB, rediss://… or unix://…, got {raw!r}")
    return raw


def origins(raw: str) -> tuple[str, ...]:
    """Comma-separated CORS origins (`scheme://host[:port]` or `*`), without trailing slashes."""
    origins = tuple(origin.strip().rstrip("/") for origin in raw.split(",") if origin.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise ValueError(f"an origin is scheme://host[:port], got {origin!r}")
    return origins


def networks(raw: str) -> tuple[str, ...]:
    """Comma-separated addresses or CIDRs, as networks."""
    return tuple(str(ipaddress.ip_network(part.strip(), strict=False)) for part in raw.split(",") if part.strip())


def host(raw: str) -> str:
    """A host name or address to listen on."""
    if any(char.isspace() for char in raw):
        raise ValueError(f"not a host name or address: {raw!r}")
    return raw


def port(raw: str) -> int:
    """A TCP port, 1 to 65535."""
    port = int(raw)
    if not 0 < port < 65536:  # noqa: PLR2004
        raise ValueError(f"must be between 1 and 65535, got {port}")
    return port


def positive_int(raw: str) -> int:
    """A whole number of at least 1."""
    value = int(raw)
    if value < 1:
        raise ValueError(f"must be at least 1, got {value}")
    return value


def argon2_memory(raw: str) -> int:
    """KiB of memory for argon2id's four lanes: at least 8 per lane."""
    kib = int(raw)
    if kib < ARGON2_MIN_MEMORY_KIB:
        raise ValueError(f"must be at least {ARGON2_MIN_MEMORY_KIB} (KiB), got {kib}")
    return kib


def log_format(raw: str) -> str:
    """`json` or `text`."""
    if raw.lower() not in {"json", "text"}:
        raise ValueError(f"expected json or text, got {raw!r}")
    return raw.lower()


def positive_float(raw: str) -> float:
    """A positive number of seconds."""
    value = float(raw)
    if not value > 0:
        raise ValueError(f"must be a positive number of seconds, got {raw!r}")
    return value


def otel(raw: str) -> bool:
    """A boolean that is true only where the `otel` extra is installed: start-up says so, not an ImportError."""
    wanted = boolean(raw)
    try:
        missing = wanted and None in [importlib.util.find_spec(module) for module in OTEL_PACKAGES]
    except ImportError:  # a parent package is missing
        missing = True
    if missing:
        raise ValueError(OTEL_EXTRA_MISSING)
    return wanted


def boolean(raw: str) -> bool:
    """true/false, 1/0, yes/no or on/off."""
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {raw!r}")
