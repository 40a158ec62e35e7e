"""JWT sessions for the tests: accounts without MFA, signing in, presenting a session, forging tokens.

Tokens are forged with the test signing secret, so each refused case differs from an accepted token by
exactly one thing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
import warnings
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from sqlalchemy import select, update

from tabular.db import Organization, Tier, User
from tabular.vocabulary import Role
from tests.support.clients import Client, bearer, otp
from tests.support.db import committed_session, execute
from tests.support.factories import new_organization, new_user
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    import httpx

    from tabular.demo import DemoUser

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different, longer passphrase"
ORGANIZATION = "Session Tests Ltd"
WEEK = 7 * 24 * 3600
MONTH = 30 * 24 * 3600
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "jti", "ver", "mfa", "csrf")
CACHE_TTLS = pytest.mark.parametrize("cache_ttl", [0.0, 60.0], ids=["no-cache", "cache-60s"])
"""Revocation holds without an identity cache and with a 60-second one (a change drops the cached identity)."""

DROP = object()
"""A claim value meaning "leave this claim out"."""


@dataclass(frozen=True)
class Account:
    """A user without MFA, so a password alone signs in (any number of times)."""

    id: uuid.UUID
    email: str
    name: str
    password: str


async def new_account(database_url: str, email: str, *, password: str | None = PASSWORD) -> Account:
    """An active member of a free organization, without MFA; `password=None` is an invited user."""
    async with committed_session(database_url) as session:
        organization = await session.scalar(select(Organization).where(Organization.name == ORGANIZATION))
        organization = organization or await new_organization(session, name=ORGANIZATION, tier=Tier.FREE)
        created = await new_user(
            session, organization, email=email, name="Pat Sessions", role=Role.MEMBER, password=password
        )
    return Account(id=created.id, email=created.email, name=created.name, password=password or "")


async def update_user(database_url: str, email: str, **values: Any) -> None:
    await execute(database_url, update(User).where(User.email == email).values(**values))


@dataclass(frozen=True)
class Session:
    """A session token and its CSRF token, presented explicitly on each request (the jar stays empty)."""

    token: str
    csrf: str

    def bearer(self) -> dict[str, str]:
        return bearer(self.token)

    def cookie(self, *, csrf: str | None = None) -> dict[str, str]:
        """The browser's view: both cookies, plus `X-CSRF-Token` when `csrf` is given."""
        headers = {"Cookie": f"auth_token={self.token}; csrf_token={self.csrf}"}
        return headers if csrf is None else headers | {"X-CSRF-Token": csrf}


def login_body(email: str, password: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "password": password, "action": "login"} | extra


async def sign_in(client: Client, email: str, password: str, **extra: Any) -> Session:
    response = await client.post("/api/auth", json=login_body(email, password, **extra))
    assert response.status_code == 200, response.text
    client.cookies.clear()
    return Session(token=response.cookies["auth_token"], csrf=response.cookies["csrf_token"])


async def sign_in_demo(client: Client, who: DemoUser) -> Session:
    """A demo user, MFA on: once per user and test (a TOTP code is accepted once per 30-second step)."""
    return await sign_in(client, who.email, who.password, otp=otp(who.totp_secret))


async def who_am_i(client: Client, headers: dict[str, str]) -> httpx.Response:
    return await client.get("/api/auth", headers=headers)


async def logout(client: Client, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/api/auth", json={"action": "logout"}, headers=headers)


async def change_password(client: Client, headers: dict[str, str], current: str, new: str) -> httpx.Response:
    body = {"current_password": current, "new_password": new}
    return await client.post("/api/auth/password", json=body, headers=headers)


def set_cookies(response: httpx.Response) -> dict[str, Morsel[str]]:
    """The response's `Set-Cookie` headers, by cookie name, with their attributes."""
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return dict(jar)


def assert_auth_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A problem document in the `/api/auth` envelope: `"success": 0`, a `code`, no traceback, no cookie."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["success"] == 0
    assert body["status"] == status
    assert isinstance(body["code"], str)
    assert body["code"]
    if code is not None:
        assert body["code"] == code, body
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    assert "set-cookie" not in response.headers
    return body


def unix_now() -> int:
    return int(time.time())


def claims_for(user_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    """Claims the application would accept for `user_id`, with `changes` (a value of DROP removes the claim)."""
    now = unix_now()
    claims = {
        "iss": "tabular",
        "aud": "session",
        "sub": str(user_id),
        "iat": now - 60,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        "ver": 0,
        "mfa": False,
        "csrf": "forged-csrf-token",
    } | changes
    return {name: value for name, value in claims.items() if value is not DROP}


def forge(claims: dict[str, Any], *, key: str = TEST_SECRET, algorithm: str = "HS256") -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.warnings.InsecureKeyLengthWarning)  # HS512 wants a 64-byte key
        return jwt.encode(claims, key, algorithm=algorithm)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims: dict[str, Any]) -> str:
    """An `alg: none` token: header and payload, empty signature."""
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def tampered(user_id: uuid.UUID) -> str:
    """A validly signed token whose payload was then edited (a longer life), the signature kept."""
    header, _, signature = forge(claims_for(user_id)).split(".")
    return f"{header}.{b64(claims_for(user_id, exp=unix_now() + 10 * 365 * 86400))}.{signature}"


def expired(user_id: uuid.UUID) -> str:
    """Signed right, expired a second ago."""
    return forge(claims_for(user_id, iat=unix_now() - 7200, exp=unix_now() - 1))
