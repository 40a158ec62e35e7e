"""Attack: guess API keys, and probe the key parser with `tp_` keys whose body is wrong.

Guessing is hopeless (285 bits), and also throttled: a rejected key leaves the request anonymous, so the
general limit counts it per client IP, and past the documented 1000 per 15 minutes the limiter answers 429
whichever header the guesses travel in. A key-shaped value with a bad body is a 401 `invalid_api_key`
problem like any wrong key, never a 500.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

import pytest

from tabular.settings import DEFAULT_RATE_LIMIT, RateSpec
from tests.support.clients import app_client, assert_problem, key

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

ALPHABET = string.ascii_letters + string.digits


def guess() -> str:
    """A well-formed key nobody was issued."""
    return "tp_" + "".join(secrets.choice(ALPHABET) for _ in range(48))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the limiter counts alike on both engines
async def test_guessing_keys_is_throttled_after_the_documented_limit(database_url: str, demo: DemoData) -> None:
    assert RateSpec.parse("1000/15m") == DEFAULT_RATE_LIMIT, "the README's TABULAR_RATE_LIMIT default"
    limit = DEFAULT_RATE_LIMIT.limit
    async with app_client(database_url, rate_limit=DEFAULT_RATE_LIMIT) as client:
        for attempt in range(limit):
            headers = {"X-API-Key": guess()} if attempt % 2 else {"Authorization": f"Bearer {guess()}"}
            refused = await client.get("/api/surveys", headers=headers)
            assert refused.status_code == 401, (attempt, refused.text)
        throttled = await client.get("/api/surveys", headers={"X-API-Key": guess()})
        assert_problem(throttled, 429, "rate_limited")
        assert throttled.headers["ratelimit-policy"] == '"general";q=1000;w=900'
        assert throttled.headers["ratelimit-remaining"] == "0"
        assert int(throttled.headers["retry-after"]) > 0
        assert_problem(await client.get("/api/surveys", headers={"Authorization": f"Bearer {guess()}"}), 429)
        owner = await client.get("/api/surveys", headers=key(demo, "admin"))
        assert owner.status_code == 200, "the budget spent is the guesser's (anonymous, per IP), not the key owner's"


BAD_BODIES = {
    "empty": "tp_",
    "one-short": "tp_" + "A" * 47,
    "one-long": "tp_" + "A" * 49,
    "punctuation": "tp_" + "!" * 48,
    "sql": "tp_' OR 1=1 --" + "A" * 34,
    "percent-and-underscore": "tp_" + "%_" * 24,
    "backslashes": "tp_" + "\\" * 48,
    "spaces-inside": "tp_" + "A" * 20 + " " * 8 + "A" * 20,
    "huge": "tp_" + "A" * 8000,
    "prefix-only-of-a-real-key": "",  # filled in from the demo key
}


@pytest.mark.parametrize("case", BAD_BODIES)
async def test_a_tp_key_with_a_bad_body_is_401_not_500(client: Client, demo: DemoData, case: str) -> None:
    value = BAD_BODIES[case] or key(demo, "admin")["X-API-Key"][:10]
    for headers in ({"X-API-Key": value}, {"Authorization": f"Bearer {value}"}):
        answer = await client.get("/api/surveys", headers=headers)
        assert_problem(answer, 401, "invalid_api_key")
        assert value not in answer.text, "a refusal does not echo the key"


@pytest.mark.parametrize(
    "raw", [b"tp_" + "é".encode() * 24, b"tp_" + b"\xff" * 48, b"tp_" + b"\x01" * 48], ids=["utf-8", "latin-1", "ctl"]
)
async def test_a_tp_key_with_bytes_outside_ascii_is_401_not_500(client: Client, raw: bytes) -> None:
    answer = await client.get("/api/surveys", headers=[(b"X-API-Key", raw)])
    assert_problem(answer, 401, "invalid_api_key")
