"""Settings for a test application: a fixed signing secret, limits out of the way, no access log."""

from __future__ import annotations

from typing import Any, Final

from tabular.auth.at_rest import AtRest
from tabular.settings import RateSpec, Settings

TEST_SECRET: Final = "test-signing-secret-" + "x" * 32
"""The signing secret of every test application, so a test can forge a token that differs in one thing."""

TEST_ARGON2: Final = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
"""argon2id at its cheapest honest cost (one pass, 1 MiB): every test still hashes and verifies for real, in
a millisecond rather than a quarter of a second; the production costs are the settings' defaults."""


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings: identity caching off (tests change rows directly), limits out of the way and no access
    log, unless a test asks otherwise; the rate-limit tests set their own limits."""
    defaults: dict[str, Any] = {
        "secret_key": TEST_SECRET,
        "auth_cache_ttl": 0.0,
        "access_log": False,  # its own test turns it on; elsewhere it would only fill captured output
        "rate_limit": RateSpec(limit=100_000, window=900),
        "auth_rate_limit": RateSpec(limit=100_000, window=900),
        "account_rate_limit": RateSpec(limit=100_000, window=900),
        "webhooks_worker": False,  # its background queries would count in the tests that count queries
        **TEST_ARGON2,
    }
    return Settings(database_url=database_url, **(defaults | overrides))


TEST_AT_REST: Final = AtRest.of(make_settings("sqlite+aiosqlite://"))
"""What the test applications seal TOTP secrets, key recovery codes and hash passwords with (an operator's
`Actor` needs it)."""
