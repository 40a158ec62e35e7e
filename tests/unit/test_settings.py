import stat
from pathlib import Path

import pytest

from tabular.settings import DEFAULT_DATABASE_URL, RateSpec, Settings, SettingsError


def test_defaults_are_the_embedded_engines(tmp_path: Path) -> None:
    settings = Settings.from_env({}, secret_dir=tmp_path)
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.cors_origins == ()
    assert settings.rate_limit == RateSpec(limit=1000, window=900)
    assert settings.auth_rate_limit == RateSpec(limit=20, window=900)
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 1)
    assert (settings.argon2_time_cost, settings.argon2_memory_kib) == (3, 65_536)  # RFC 9106's second profile


def test_secret_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    first = Settings.from_env({}, secret_dir=tmp_path).secret_key
    second = Settings.from_env({}, secret_dir=tmp_path).secret_key
    assert first == second
    assert len(first) >= 32
    assert stat.S_IMODE((tmp_path / ".tabular-secret").stat().st_mode) == 0o600


def test_explicit_secret_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = Settings.from_env({"TABULAR_SECRET_KEY": "k" * 40}, secret_dir=tmp_path)
    assert settings.secret_key == "k" * 40
    assert not (tmp_path / ".tabular-secret").exists()


def test_the_audit_key_is_derived_from_the_secret_for_that_purpose_alone() -> None:
    """Pinned: a different derivation would leave every chain already written unverifiable."""
    settings = Settings(secret_key="k" * 40)
    assert settings.audit_key.hex() == "33263d254908ee030dabe57f7d5806b8015565c046bbca3fe06ccbd2a2cdfb49"
    assert Settings(secret_key="j" * 40).audit_key != settings.audit_key
    assert settings.secret_key.encode() != settings.audit_key


def test_truncated_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".tabular-secret").write_text("short")
    with pytest.raises(SettingsError, match="too short"):
        Settings.from_env({}, secret_dir=tmp_path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1000/15m", (1000, 900)), ("20/15m", (20, 900)), ("5/s", (5, 1)), ("100/1h", (100, 3600)), ("7/2d", (7, 172800))],
)
def test_rate_spec_parses_units(text: str, expected: tuple[int, int]) -> None:
    assert (RateSpec.parse(text).limit, RateSpec.parse(text).window) == expected


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("postgresql://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
        ("postgres://u@h:5433/db", "postgresql+asyncpg://u@h:5433/db"),
    ],
)
def test_database_urls_get_the_async_driver(tmp_path: Path, url: str, normalized: str) -> None:
    assert Settings.from_env({"TABULAR_DATABASE_URL": url}, secret_dir=tmp_path).database_url == normalized


def test_all_variables_are_read(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TABULAR_REDIS_URL": "redis://127.0.0.1:6380/1",
            "TABULAR_CORS_ORIGINS": "https://a.example, https://b.example/",
            "TABULAR_RATE_LIMIT": "50/1m",
            "TABULAR_AUTH_RATE_LIMIT": "3/10s",
            "TABULAR_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "TABULAR_HOST": "::1",
            "TABULAR_PORT": "9000",
            "TABULAR_WORKERS": "4",
            "TABULAR_ARGON2_TIME_COST": "4",
            "TABULAR_ARGON2_MEMORY_KIB": "131072",
        },
        secret_dir=tmp_path,
    )
    assert settings.redis_url == "redis://127.0.0.1:6380/1"
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.rate_limit == RateSpec(50, 60)
    assert settings.auth_rate_limit == RateSpec(3, 10)
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1/32")
    assert (settings.host, settings.port, settings.workers) == ("::1", 9000, 4)
    assert (settings.argon2_time_cost, settings.argon2_memory_kib) == (4, 131_072)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TABULAR_DATABASE_URL", "mysql://x/y"),
        ("TABULAR_DATABASE_URL", "not a url"),
        ("TABULAR_REDIS_URL", "localhost:6379"),
        ("TABULAR_SECRET_KEY", "too-short"),
        ("TABULAR_CORS_ORIGINS", "example.com"),
        ("TABULAR_RATE_LIMIT", "1000 per 15 minutes"),
        ("TABULAR_RATE_LIMIT", "0/15m"),
        ("TABULAR_AUTH_RATE_LIMIT", "20/15y"),
        ("TABULAR_TRUSTED_PROXIES", "10.0.0.300/8"),
        ("TABULAR_PORT", "70000"),
        ("TABULAR_PORT", "http"),
        ("TABULAR_WORKERS", "0"),
        ("TABULAR_DEBUG", "maybe"),
        ("TABULAR_ARGON2_TIME_COST", "0"),
        ("TABULAR_ARGON2_MEMORY_KIB", "16"),
    ],
)
def test_a_bad_value_names_its_variable(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        Settings.from_env({variable: value, "TABULAR_SECRET_KEY": "k" * 40} | {variable: value}, secret_dir=tmp_path)
