"""Attack: guess one account's password from ever new addresses (audit finding 5).

Sign-ins were throttled per client address only; rotating addresses (one IPv6 /64 holds 2^64 of them)
guessed one account without limit. Now password attempts also count per account, from any address the
account has not signed in from lately, whether or not the email has an account (so running out reveals
nothing), and IPv6 clients are counted by their /64. The owner, where they usually sign in, is not locked
out by someone else's guesses. The app sits behind a trusted proxy (loopback), so `X-Forwarded-For` names
each attempt's address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tabular.ratelimit.window import BUCKETS
from tabular.settings import RateSpec
from tests.support.clients import raw_client
from tests.support.sessions import login_body, new_account
from tests.support.settings import make_settings

if TYPE_CHECKING:
    import httpx

pytestmark = pytest.mark.anyio

ATTEMPTS = 3
WINDOW = 900
BEHIND_PROXY = {"trusted_proxies": ("127.0.0.1/32",)}


async def _attempt(client: httpx.AsyncClient, address: str, email: str, password: str) -> httpx.Response:
    return await client.post("/api/auth", json=login_body(email, password), headers={"X-Forwarded-For": address})


async def test_guesses_from_ever_new_addresses_run_out_per_account(database_url: str) -> None:
    owner = await new_account(database_url, "guessed@example.com")
    settings = make_settings(database_url, account_rate_limit=RateSpec(ATTEMPTS, WINDOW), **BEHIND_PROXY)
    async with raw_client(settings) as client:
        for n in range(ATTEMPTS):
            assert (await _attempt(client, f"203.0.113.{n}", owner.email, "a wrong guess")).status_code == 401

        refused = await _attempt(client, "203.0.113.200", owner.email, owner.password)

    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "account_throttled"
    assert 0 < int(refused.headers["Retry-After"]) <= WINDOW + WINDOW // BUCKETS  # the window, and one bucket


async def test_running_out_says_nothing_about_whether_the_email_has_an_account(database_url: str) -> None:
    owner = await new_account(database_url, "exists@example.com")
    settings = make_settings(database_url, account_rate_limit=RateSpec(ATTEMPTS, WINDOW), **BEHIND_PROXY)
    answers: dict[str, list[tuple[int, str]]] = {}
    async with raw_client(settings) as client:
        for email in (owner.email, "nobody-has-this@example.com"):
            answers[email] = []
            for n in range(ATTEMPTS + 2):
                response = await _attempt(client, f"198.51.100.{n}", email, "a wrong guess")
                answers[email].append((response.status_code, response.json()["code"]))

    assert answers[owner.email] == answers["nobody-has-this@example.com"]
    assert answers[owner.email][-1] == (429, "account_throttled")


async def test_the_owner_still_signs_in_where_they_did_before(database_url: str) -> None:
    owner = await new_account(database_url, "owner-at-home@example.com")
    settings = make_settings(database_url, account_rate_limit=RateSpec(ATTEMPTS, WINDOW), **BEHIND_PROXY)
    async with raw_client(settings) as client:
        assert (await _attempt(client, "192.0.2.10", owner.email, owner.password)).status_code == 200
        for n in range(ATTEMPTS + 2):
            await _attempt(client, f"203.0.113.{n}", owner.email, "a wrong guess")
        assert (await _attempt(client, "203.0.113.99", owner.email, owner.password)).status_code == 429

        at_home = await _attempt(client, "192.0.2.10", owner.email, owner.password)

    assert at_home.status_code == 200, at_home.text


async def test_an_ipv6_client_cannot_rotate_through_its_own_64(database_url: str) -> None:
    owner = await new_account(database_url, "v6@example.com")
    settings = make_settings(database_url, auth_rate_limit=RateSpec(ATTEMPTS, WINDOW), **BEHIND_PROXY)
    async with raw_client(settings) as client:
        for n in range(1, ATTEMPTS + 1):
            assert (await _attempt(client, f"2001:db8:1:2::{n:x}", owner.email, "wrong")).status_code == 401

        same_64 = await _attempt(client, "2001:db8:1:2:ffff:ffff:ffff:ffff", owner.email, owner.password)
        other_64 = await _attempt(client, "2001:db8:1:3::1", owner.email, owner.password)

    assert same_64.status_code == 429, same_64.text
    assert same_64.json()["code"] == "rate_limited"
    assert other_64.status_code == 200, other_64.text
