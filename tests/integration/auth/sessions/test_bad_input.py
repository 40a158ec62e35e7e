"""Bad input to login and password change is a 4xx problem with `"success": 0`, never a 500; a login needs
a JSON content type."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.support.sessions import (
    Account,
    Client,
    assert_auth_problem,
    login_body,
    sign_in,
    who_am_i,
)

if TYPE_CHECKING:
    import httpx


pytestmark = pytest.mark.anyio


JSON = "application/json"


BAD_LOGIN_BODIES = [
    pytest.param(b'{"email": "a@example.com", "password": ', JSON, id="truncated-json"),
    pytest.param(b"{'email': 'a@example.com'}", JSON, id="single-quoted"),
    pytest.param(b"", JSON, id="empty-body"),
    pytest.param(b"\xff\xfe\x00", JSON, id="not-utf8"),
    pytest.param(b"[]", JSON, id="array"),
    pytest.param(b"null", JSON, id="null"),
    pytest.param(b'"login"', JSON, id="string"),
    pytest.param(b'{"action": "register", "email": "a@example.com", "password": "x"}', JSON, id="unknown-action"),
    pytest.param(b'{"email": "a@example.com", "password": "x"}', JSON, id="no-action"),
    pytest.param(b'{"action": 1, "email": "a@example.com", "password": "x"}', JSON, id="action-not-a-string"),
    pytest.param(b'{"action": "login", "password": "x"}', JSON, id="no-email"),
    pytest.param(b'{"action": "login", "email": "a@example.com"}', JSON, id="no-password"),
    pytest.param(b'{"action": "login", "email": 42, "password": "x"}', JSON, id="email-not-a-string"),
    pytest.param(b'{"action": "login", "email": "a@example.com", "password": null}', JSON, id="password-null"),
    pytest.param(b'{"action": "login", "email": ["a@example.com"], "password": "x"}', JSON, id="email-a-list"),
    pytest.param(
        b'{"action": "login", "email": "a@example.com", "password": "x", "remember_me": "yes"}', JSON, id="remember-str"
    ),
    pytest.param(b'{"action": "login", "email": "a@example.com", "password": "x", "otp": 123456}', JSON, id="otp-int"),
    pytest.param(b'{"action": "login", "email": "a@example.com", "password": "x", "role": "admin"}', JSON, id="extra"),
    pytest.param(b'{"action": "logout", "email": "a@example.com"}', JSON, id="logout-extra-field"),
    pytest.param(b'{"action": "login", "email": "", "password": "x"}', JSON, id="empty-email"),
    pytest.param(b'{"action": "login", "email": "a@example.com", "password": ""}', JSON, id="empty-password"),
    pytest.param(json.dumps(login_body("a" * 309 + "@example.com", "x")).encode(), JSON, id="email-321-chars"),
    pytest.param(json.dumps(login_body("a@example.com", "x" * 1025)).encode(), JSON, id="password-1025-chars"),
    pytest.param(json.dumps(login_body("a@example.com", "x", otp="1" * 33)).encode(), JSON, id="otp-33-chars"),
    pytest.param(b"email=a%40example.com&password=x&action=login", "application/x-www-form-urlencoded", id="form"),
    pytest.param(b"<login/>", "application/xml", id="xml"),
]


def assert_client_error(response: httpx.Response) -> None:
    assert 400 <= response.status_code < 500, response.text
    assert_auth_problem(response, response.status_code)


@pytest.mark.parametrize(("content", "content_type"), BAD_LOGIN_BODIES)
async def test_bad_login_input_is_a_4xx_problem(client: Client, content: bytes, content_type: str) -> None:
    assert_client_error(await client.post("/api/auth", content=content, headers={"Content-Type": content_type}))


async def test_the_length_limits_are_inclusive(client: Client) -> None:
    """An email of 320 and a password of 1024 characters are checked like any other, not refused as input."""
    body = login_body("a" * 308 + "@example.com", "x" * 1024)
    assert len(body["email"]) == 320
    assert_auth_problem(await client.post("/api/auth", json=body), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_a_login_needs_a_json_content_type(client: Client, account: Account, content_type: str) -> None:
    """A body that is valid JSON but labelled otherwise is refused and signs nobody in.

    Browsers send these types cross-site without a CORS preflight: accepting them would be a login CSRF.
    """
    content = json.dumps(login_body(account.email, account.password)).encode()
    response = await client.post("/api/auth", content=content, headers={"Content-Type": content_type})
    assert_auth_problem(response, 415, "unsupported_media_type")
    assert "auth_token" not in response.cookies


BAD_PASSWORD_BODIES = [
    pytest.param(b'{"current_password": ', id="truncated-json"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b'{"current_password": "x"}', id="no-new-password"),
    pytest.param(b'{"current_password": 1, "new_password": "abcdefghijkl"}', id="not-a-string"),
    pytest.param(b'{"current_password": "x", "new_password": "abcdefghijkl", "email": "e@x.io"}', id="extra"),
    pytest.param(json.dumps({"current_password": "x", "new_password": "y" * 1025}).encode(), id="new-1025-chars"),
    pytest.param(json.dumps({"current_password": "x" * 1025, "new_password": "abcdefghijkl"}).encode(), id="cur-1025"),
]


@pytest.mark.parametrize("content", BAD_PASSWORD_BODIES)
async def test_bad_password_change_input_is_a_4xx_problem(client: Client, account: Account, content: bytes) -> None:
    session = await sign_in(client, account.email, account.password)
    headers = session.bearer() | {"Content-Type": JSON}

    assert_client_error(await client.post("/api/auth/password", content=content, headers=headers))
    assert (await who_am_i(client, session.bearer())).status_code == 200
