"""`POST /api/auth/password`: a change ends every other session at once and renews the caller's; weak or wrong
passwords are refused and end nothing."""

from __future__ import annotations

import pytest

from tests.support.clients import app_client
from tests.support.sessions import (
    CACHE_TTLS,
    NEW_PASSWORD,
    Account,
    Client,
    Session,
    assert_auth_problem,
    change_password,
    login_body,
    logout,
    set_cookies,
    sign_in,
    who_am_i,
)

pytestmark = pytest.mark.anyio


@CACHE_TTLS
async def test_a_password_change_ends_every_other_session(
    database_url: str, account: Account, cache_ttl: float
) -> None:
    async with app_client(database_url, auth_cache_ttl=cache_ttl) as client:
        caller = await sign_in(client, account.email, account.password)
        other = await sign_in(client, account.email, account.password)
        for session in (caller, other):
            assert (await who_am_i(client, session.bearer())).status_code == 200

        response = await change_password(client, caller.bearer(), account.password, NEW_PASSWORD)

        assert response.status_code == 200, response.text
        assert response.json() == {"success": 1, "data": {"password_changed": True, "active_keys": []}}
        cookies = set_cookies(response)
        renewed = Session(token=cookies["auth_token"].value, csrf=cookies["csrf_token"].value)
        assert cookies["auth_token"]["httponly"] is True
        assert renewed.token != caller.token
        for session in (caller, other):
            assert_auth_problem(await who_am_i(client, session.bearer()), 401, "session_revoked")
        assert (await who_am_i(client, renewed.cookie())).status_code == 200
        assert (await logout(client, renewed.cookie(csrf=renewed.csrf))).status_code == 200

        old = await client.post("/api/auth", json=login_body(account.email, account.password))
        assert_auth_problem(old, 401, "invalid_credentials")
        await sign_in(client, account.email, NEW_PASSWORD)


def _weak_passwords(account: Account) -> dict[str, str]:
    return {
        "too-short": "Sh0rt-pw!",
        "too-few-characters": "abababababab",
        "same-as-current": account.password,
        "the-email": account.email.upper(),
        "the-email-local-part": account.email.split("@")[0],
        "empty": "",
    }


@pytest.mark.parametrize(
    "rule", ["too-short", "too-few-characters", "same-as-current", "the-email", "the-email-local-part", "empty"]
)
async def test_a_weak_new_password_is_refused(client: Client, account: Account, rule: str) -> None:
    session = await sign_in(client, account.email, account.password)

    response = await change_password(client, session.bearer(), account.password, _weak_passwords(account)[rule])

    body = assert_auth_problem(response, 422, "weak_password")
    assert [error["field"] for error in body["errors"]] == ["new_password"]
    assert (await who_am_i(client, session.bearer())).status_code == 200, "a refused change ends no session"


async def test_a_wrong_current_password_is_refused(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)

    response = await change_password(client, session.bearer(), "not the password", NEW_PASSWORD)

    body = assert_auth_problem(response, 422, "current_password_incorrect")
    assert [error["field"] for error in body["errors"]] == ["current_password"]
    assert (await who_am_i(client, session.bearer())).status_code == 200
    await sign_in(client, account.email, account.password)
