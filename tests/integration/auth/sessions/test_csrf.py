"""Cookie-authenticated unsafe requests need the session's `X-CSRF-Token`; Bearer and safe requests do not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.sessions import (
    NEW_PASSWORD,
    Account,
    Client,
    assert_auth_problem,
    change_password,
    logout,
    sign_in,
    who_am_i,
)

if TYPE_CHECKING:
    import httpx


pytestmark = pytest.mark.anyio


UNSAFE_REQUESTS = pytest.mark.parametrize("request_kind", ["logout", "password"])


async def _unsafe(client: Client, request_kind: str, account: Account, headers: dict[str, str]) -> httpx.Response:
    if request_kind == "logout":
        return await logout(client, headers)
    return await change_password(client, headers, account.password, NEW_PASSWORD)


@UNSAFE_REQUESTS
@pytest.mark.parametrize("csrf_header", [None, "", "wrong", "other-session"])
async def test_a_cookie_authenticated_post_without_the_right_csrf_header_is_403(
    client: Client, account: Account, request_kind: str, csrf_header: str | None
) -> None:
    session = await sign_in(client, account.email, account.password)
    if csrf_header == "other-session":  # a real CSRF token, but bound to another session
        csrf_header = (await sign_in(client, account.email, account.password)).csrf

    response = await _unsafe(client, request_kind, account, session.cookie(csrf=csrf_header))

    assert_auth_problem(response, 403, "csrf_failed")
    assert (await who_am_i(client, session.cookie())).status_code == 200, "nothing happened: still signed in"


@UNSAFE_REQUESTS
async def test_a_cookie_authenticated_post_with_the_csrf_header_is_allowed(
    client: Client, account: Account, request_kind: str
) -> None:
    session = await sign_in(client, account.email, account.password)

    response = await _unsafe(client, request_kind, account, session.cookie(csrf=session.csrf))

    assert response.status_code == 200, response.text
    assert response.json()["success"] == 1
    assert_auth_problem(await who_am_i(client, session.cookie()), 401, "session_revoked")


@UNSAFE_REQUESTS
async def test_bearer_requests_need_no_csrf_header(client: Client, account: Account, request_kind: str) -> None:
    """The Bearer token decides even next to a cookie, and a script cannot be made to send it cross-site."""
    session = await sign_in(client, account.email, account.password)
    other = await sign_in(client, account.email, account.password)

    response = await _unsafe(client, request_kind, account, other.cookie() | session.bearer())

    assert response.status_code == 200, response.text
    assert_auth_problem(await who_am_i(client, session.bearer()), 401, "session_revoked")


async def test_safe_methods_need_no_csrf_header(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    response = await who_am_i(client, session.cookie())
    assert response.status_code == 200, response.text
