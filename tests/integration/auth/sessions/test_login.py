"""`POST /api/auth` login: the seed's example as written, the session cookies' attributes, the token as cookie and
as Bearer, failed logins that all look alike, and no session for an MFA user without a code."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from tabular.auth.passwords import argon2_runs
from tabular.db import User
from tests.support.clients import app_client, otp, user, without_request_id
from tests.support.db import committed_session
from tests.support.sessions import (
    MONTH,
    ORGANIZATION,
    PASSWORD,
    WEEK,
    Account,
    Client,
    Session,
    assert_auth_problem,
    expired,
    login_body,
    new_account,
    set_cookies,
    sign_in,
    sign_in_demo,
    update_user,
    who_am_i,
)
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from litestar import Litestar

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_the_seed_curl_login_example_works_as_written(client: Client, account: Account) -> None:
    body = json.dumps({"email": account.email, "password": account.password, "action": "login"})
    response = await client.post("/api/auth", content=body, headers={"Content-Type": "application/json"})

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "success": 1,
        "data": {
            "user_id": str(account.id),
            "user_name": account.name,
            "user_email": account.email,
            "organization_name": ORGANIZATION,
        },
    }
    assert set(set_cookies(response)) == {"auth_token", "csrf_token"}


@pytest.mark.parametrize(
    ("extra", "max_age"),
    [({}, WEEK), ({"remember_me": False}, WEEK), ({"remember_me": True}, MONTH)],
    ids=["default", "not-remembered", "remember-me"],
)
async def test_session_cookie_attributes(client: Client, account: Account, extra: dict[str, Any], max_age: int) -> None:
    response = await client.post("/api/auth", json=login_body(account.email, account.password, **extra))
    assert response.status_code == 200, response.text
    cookies = set_cookies(response)

    session, csrf = cookies["auth_token"], cookies["csrf_token"]
    assert session["httponly"] is True
    assert csrf["httponly"] == "", "the CSRF token is for the browser app to read"
    for cookie in (session, csrf):
        assert cookie["samesite"].lower() == "lax"
        assert cookie["path"] == "/"
        assert cookie["max-age"] == str(max_age)
        assert cookie["secure"] == "", "no Secure flag over plain http"
    claims = jwt.decode(session.value, TEST_SECRET, algorithms=["HS256"], issuer="tabular", audience="session")
    assert claims["exp"] - claims["iat"] == max_age
    assert claims["csrf"] == csrf.value
    assert claims["sub"] == str(account.id)


async def test_cookies_are_secure_over_https(app: Litestar, account: Account) -> None:
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await client.post("/api/auth", json=login_body(account.email, account.password))
    assert response.status_code == 200, response.text
    assert all(cookie["secure"] is True for cookie in set_cookies(response).values())


async def test_the_token_works_as_cookie_and_as_bearer(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)

    for headers in (session.cookie(), session.bearer()):
        response = await who_am_i(client, headers)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["user_id"] == str(account.id)


async def test_the_email_is_matched_case_insensitively(client: Client, account: Account) -> None:
    response = await client.post("/api/auth", json=login_body("  PAT.Sessions@Example.COM ", account.password))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user_email"] == account.email


async def test_failed_logins_are_indistinguishable(client: Client, database_url: str, account: Account) -> None:
    """Unknown email, wrong password, deactivated account and an invited user without a password: one answer."""
    await new_account(database_url, "gone@example.com")
    await update_user(database_url, "gone@example.com", is_active=False)
    await new_account(database_url, "invited@example.com", password=None)
    attempts = [
        login_body("nobody@example.com", PASSWORD),
        login_body(account.email, "not the password"),
        login_body("gone@example.com", PASSWORD),
        login_body("invited@example.com", "tabular: no such user"),  # the dummy hash's own password
    ]

    responses = [await client.post("/api/auth", json=body) for body in attempts]

    for response in responses:
        assert_auth_problem(response, 401, "invalid_credentials")
    assert len({(r.status_code, r.headers["content-type"], without_request_id(r)) for r in responses}) == 1


async def test_an_unknown_email_costs_a_password_verification(client: Client, account: Account) -> None:
    """No short cut for unknown emails: one argon2 run either way (counted, not timed)."""
    for body in (login_body("nobody@example.com", PASSWORD), login_body(account.email, "not the password")):
        before = argon2_runs()
        assert_auth_problem(await client.post("/api/auth", json=body), 401, "invalid_credentials")
        assert argon2_runs() - before == 1, body["email"]


async def test_a_sign_in_rehashes_a_password_under_the_emails_keyed_salt(client: Client, account: Account) -> None:
    """A hash with a random salt (as stored before salts were keyed) is replaced at the next sign-in."""
    runs = []
    for _ in range(2):
        before = argon2_runs()
        assert (await client.post("/api/auth", json=login_body(account.email, account.password))).status_code == 200
        runs.append(argon2_runs() - before)
    assert runs == [2, 1], "the first verifies the old hash and rehashes; the second only hashes under the keyed salt"


async def test_a_sign_in_rehashes_a_password_at_the_configured_argon2_costs(
    database_url: str, account: Account
) -> None:
    """`TABULAR_ARGON2_*` raised: the next sign-in stores the password at the new costs, the one after uses it."""
    runs = []
    async with app_client(database_url, argon2_time_cost=2, argon2_memory_kib=2048) as stronger:
        for _ in range(2):
            before = argon2_runs()
            signed_in = await stronger.post("/api/auth", json=login_body(account.email, account.password))
            assert signed_in.status_code == 200, signed_in.text
            runs.append(argon2_runs() - before)
    assert runs == [2, 1], "the first verifies and rehashes at the new costs; the second only verifies"
    async with committed_session(database_url) as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == account.id))
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=2048,t=2,p=4$")


@pytest.mark.parametrize("stale", ["expired", "no-csrf-header"])
async def test_a_cookie_already_held_does_not_block_signing_in(client: Client, account: Account, stale: str) -> None:
    """Login is public: an expired cookie, or a live one sent without `X-CSRF-Token`, is simply ignored."""
    held = await sign_in(client, account.email, account.password)
    if stale == "expired":
        held = Session(token=expired(account.id), csrf=held.csrf)

    response = await client.post("/api/auth", json=login_body(account.email, account.password), headers=held.cookie())

    assert response.status_code == 200, response.text
    assert response.cookies["auth_token"] != held.token


async def test_an_mfa_user_gets_no_session_without_a_valid_code(client: Client, demo: DemoData) -> None:
    member = user(demo, "member")
    assert member.totp_secret is not None

    missing = await client.post("/api/auth", json=login_body(member.email, member.password))
    assert_auth_problem(missing, 401, "mfa_required")
    wrong_code = str((int(otp(member.totp_secret)) + 1) % 1_000_000).zfill(6)
    wrong = await client.post("/api/auth", json=login_body(member.email, member.password, otp=wrong_code))
    assert_auth_problem(wrong, 401, "invalid_otp")

    session = await sign_in_demo(client, member)
    data = (await who_am_i(client, session.bearer())).json()["data"]
    assert (data["mfa_enabled"], data["mfa_verified"]) == (True, True)
