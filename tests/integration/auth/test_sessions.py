"""JWT sessions end to end: `POST /api/auth` (login, logout), `GET /api/auth`, `POST /api/auth/password`.

What is pinned here, on SQLite and PostgreSQL alike:

- the seed's login example works as written and answers in its `{"success": 1, "data": …}` envelope;
  the session cookie's attributes; the token works as the `auth_token` cookie and as a Bearer token;
- every way a token can be unacceptable is a 401 with a stable `code` (forged with the test signing
  secret, so each case differs from an accepted token by exactly one thing);
- logout and a password change revoke at once, also with a 60-second identity cache;
- failed logins are indistinguishable; MFA users get no session without a code;
- cookie-authenticated unsafe requests need `X-CSRF-Token`; Bearer and safe requests do not;
- password rules, who-am-I fields, the audit trail (never holding a password) and bad input (a 4xx
  problem with `"success": 0`, never a 500).
"""

from __future__ import annotations

import base64
import functools
import json
import time
import uuid
import warnings
from contextlib import asynccontextmanager
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from argon2 import PasswordHasher
from litestar.testing import AsyncTestClient
from sqlalchemy import inspect, select, update

from tabular.app import create_app
from tabular.db import AuditEvent, User
from tabular.db.config import make_db_config
from tabular.services.organizations import OrganizationService
from tabular.services.users import UserService
from tabular.vocabulary import Role
from tests.support.clients import bearer, otp, user
from tests.support.settings import TEST_SECRET, make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    import httpx
    from litestar import Litestar
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData, DemoUser

pytestmark = pytest.mark.anyio

Client = AsyncTestClient["Litestar"]

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different, longer passphrase"
ORGANIZATION = "Session Tests Ltd"
WEEK = 7 * 24 * 3600
MONTH = 30 * 24 * 3600
REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub", "jti", "ver", "mfa", "csrf")
DROP = object()
"""A claim value meaning "leave this claim out"."""


# --- accounts and the database ------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A user without MFA, so a password alone signs in (any number of times)."""

    id: uuid.UUID
    email: str
    name: str
    password: str


@asynccontextmanager
async def db_session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A transaction on the test database, committed on exit, on an engine of its own."""
    config = make_db_config(make_settings(database_url))
    try:
        async with config.get_session() as session, session.begin():
            yield session
    finally:
        await config.get_engine().dispose()


@functools.cache
def argon2_hash(password: str) -> str:
    """Hashed once per test run: argon2 is slow on purpose, and every login still verifies for real."""
    return PasswordHasher().hash(password)


async def new_account(database_url: str, email: str, *, password: str | None = PASSWORD) -> Account:
    """An active member of a free organization, without MFA; `password=None` is an invited user."""
    async with db_session(database_url) as session:
        organization = await OrganizationService(session).get_or_create(ORGANIZATION)
        created = await UserService(session).create(
            User(
                organization_id=organization.id,
                email=email,
                name="Pat Sessions",
                role=Role.MEMBER,
                password_hash=argon2_hash(password) if password else None,
            )
        )
    return Account(id=created.id, email=created.email, name=created.name, password=password or "")


async def update_user(database_url: str, email: str, **values: Any) -> None:
    async with db_session(database_url) as session:
        await session.execute(update(User).where(User.email == email).values(**values))


async def audit_trail(database_url: str) -> list[AuditEvent]:
    async with db_session(database_url) as session:
        return list(await session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def row_text(event: AuditEvent) -> str:
    """Every column of an audit row as text, to search for things that must never be there."""
    return repr({column.key: getattr(event, column.key) for column in inspect(AuditEvent).mapper.column_attrs})


@pytest.fixture
async def account(database_url: str) -> Account:
    return await new_account(database_url, "pat.sessions@example.com")


@asynccontextmanager
async def client_for(database_url: str, **overrides: Any) -> AsyncIterator[Client]:
    """A client of an application built with its own settings (say a 60-second identity cache)."""
    async with AsyncTestClient(app=create_app(make_settings(database_url, **overrides))) as client:
        yield client


# --- signing in and presenting a session ----------------------------------------------------------------


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


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
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


# --- forging tokens with the test signing secret ---------------------------------------------------------


def _now() -> int:
    return int(time.time())


def claims_for(user_id: uuid.UUID, **changes: Any) -> dict[str, Any]:
    """Claims the application would accept for `user_id`, with `changes` (a value of DROP removes the claim)."""
    now = _now()
    claims = {
        "iss": "tabular",
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
    return f"{header}.{b64(claims_for(user_id, exp=_now() + 10 * 365 * 86400))}.{signature}"


def expired(user_id: uuid.UUID) -> str:
    """Signed right, expired a second ago."""
    return forge(claims_for(user_id, iat=_now() - 7200, exp=_now() - 1))


BAD_TOKENS = [
    pytest.param(expired, "session_expired", id="expired"),
    pytest.param(tampered, "invalid_token", id="tampered-payload"),
    pytest.param(lambda uid: forge(claims_for(uid), key="another-secret-" + "y" * 40), "invalid_token", id="wrong-key"),
    pytest.param(lambda uid: unsigned(claims_for(uid)), "invalid_token", id="alg-none"),
    pytest.param(lambda uid: forge(claims_for(uid), algorithm="HS384"), "invalid_token", id="HS384"),
    pytest.param(lambda uid: forge(claims_for(uid), algorithm="HS512"), "invalid_token", id="HS512"),
    pytest.param(lambda uid: forge(claims_for(uid, iss="someone-else")), "invalid_token", id="wrong-issuer"),
    pytest.param(lambda uid: forge(claims_for(uid, iat=_now() + 3600)), "invalid_token", id="issued-in-future"),
    pytest.param(lambda uid: forge(claims_for(uid, sub="admin")), "invalid_token", id="sub-not-a-uuid"),
    pytest.param(lambda uid: forge(claims_for(uid, ver="one")), "invalid_token", id="ver-not-a-number"),
    pytest.param(lambda _: forge(claims_for(uuid.uuid4())), "session_revoked", id="unknown-user"),
    pytest.param(lambda uid: forge(claims_for(uid, ver=1)), "session_revoked", id="stale-version"),
    *(
        pytest.param(
            lambda uid, claim=claim: forge(claims_for(uid, **{claim: DROP})), "invalid_token", id=f"no-{claim}"
        )
        for claim in REQUIRED_CLAIMS
    ),
    pytest.param(lambda _: "a.b.c", "invalid_token", id="garbage-segments"),
    pytest.param(lambda _: "not-a-jwt", "invalid_token", id="not-a-jwt"),
    pytest.param(lambda uid: forge(claims_for(uid)) + "x", "invalid_token", id="signature-extended"),
]


# --- login -------------------------------------------------------------------------------------------------


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
    claims = jwt.decode(session.value, TEST_SECRET, algorithms=["HS256"], issuer="tabular")
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
        assert_problem(response, 401, "invalid_credentials")
    assert len({(r.status_code, r.headers["content-type"], r.content) for r in responses}) == 1


async def test_an_unknown_email_costs_a_password_verification(client: Client, account: Account) -> None:
    """No short cut for unknown emails: the argon2 check runs either way (the fastest of three, for stability)."""

    async def fastest(body: dict[str, Any]) -> float:
        durations = []
        for _ in range(3):
            started = time.perf_counter()
            response = await client.post("/api/auth", json=body)
            durations.append(time.perf_counter() - started)
            assert response.status_code == 401
        return min(durations)

    unknown = await fastest(login_body("nobody@example.com", PASSWORD))
    wrong = await fastest(login_body(account.email, "not the password"))
    assert unknown > wrong / 2, (unknown, wrong)


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
    assert_problem(missing, 401, "mfa_required")
    wrong_code = str((int(otp(member.totp_secret)) + 1) % 1_000_000).zfill(6)
    wrong = await client.post("/api/auth", json=login_body(member.email, member.password, otp=wrong_code))
    assert_problem(wrong, 401, "invalid_otp")

    session = await sign_in_demo(client, member)
    data = (await who_am_i(client, session.bearer())).json()["data"]
    assert (data["mfa_enabled"], data["mfa_verified"]) == (True, True)


# --- tokens that are not accepted --------------------------------------------------------------------------


async def test_a_forged_token_with_the_signing_secret_is_accepted(client: Client, account: Account) -> None:
    """The control for the cases below: they differ from this token by exactly one thing."""
    response = await who_am_i(client, bearer(forge(claims_for(account.id))))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user_id"] == str(account.id)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}, {"Cookie": "auth_token="}],
    ids=["nothing", "empty-bearer", "bare-bearer", "empty-cookie"],
)
async def test_no_credentials_is_401(client: Client, headers: dict[str, str]) -> None:
    assert_problem(await who_am_i(client, headers), 401, "unauthenticated")


@pytest.mark.parametrize(("make_token", "code"), BAD_TOKENS)
async def test_a_bad_bearer_token_is_401(
    client: Client, account: Account, make_token: Callable[[uuid.UUID], str], code: str
) -> None:
    assert_problem(await who_am_i(client, bearer(make_token(account.id))), 401, code)


@pytest.mark.parametrize(
    ("make_token", "code"), [case for case in BAD_TOKENS if case.id in {"expired", "tampered-payload", "alg-none"}]
)
async def test_a_bad_session_cookie_is_401(
    client: Client, account: Account, make_token: Callable[[uuid.UUID], str], code: str
) -> None:
    assert_problem(await who_am_i(client, {"Cookie": f"auth_token={make_token(account.id)}"}), 401, code)


async def test_a_deactivated_users_session_is_refused(client: Client, database_url: str, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    assert (await who_am_i(client, session.bearer())).status_code == 200

    await update_user(database_url, account.email, is_active=False)

    assert_problem(await who_am_i(client, session.bearer()), 401, "account_disabled")
    assert_problem(await who_am_i(client, session.cookie()), 401, "account_disabled")


# --- logout and password change revoke at once ------------------------------------------------------------

CACHE_TTLS = pytest.mark.parametrize("cache_ttl", [0.0, 60.0], ids=["no-cache", "cache-60s"])


@CACHE_TTLS
async def test_logout_revokes_that_token_only(database_url: str, account: Account, cache_ttl: float) -> None:
    async with client_for(database_url, auth_cache_ttl=cache_ttl) as client:
        leaving = await sign_in(client, account.email, account.password)
        staying = await sign_in(client, account.email, account.password)
        for session in (leaving, staying):  # warm any cache
            assert (await who_am_i(client, session.bearer())).status_code == 200

        response = await logout(client, leaving.bearer())

        assert response.status_code == 200, response.text
        assert response.json() == {"success": 1, "data": {"logged_out": True}}
        cleared = set_cookies(response)
        assert {name: cleared[name]["max-age"] for name in cleared} == {"auth_token": "0", "csrf_token": "0"}
        assert_problem(await who_am_i(client, leaving.bearer()), 401, "session_revoked")
        assert_problem(await who_am_i(client, leaving.cookie()), 401, "session_revoked")
        assert_problem(await logout(client, leaving.bearer()), 401, "session_revoked")
        assert (await who_am_i(client, staying.bearer())).status_code == 200

    async with client_for(database_url, auth_cache_ttl=cache_ttl) as restarted:
        assert_problem(await who_am_i(restarted, leaving.bearer()), 401, "session_revoked")


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "unauthenticated"), ({"Cookie": "auth_token=not-a-jwt"}, "invalid_token")],
    ids=["no-credentials", "bad-cookie"],
)
async def test_logout_needs_a_live_session(client: Client, headers: dict[str, str], code: str) -> None:
    assert_problem(await logout(client, headers), 401, code)


async def test_an_api_key_cannot_log_out_or_change_the_password(client: Client, demo: DemoData) -> None:
    member = user(demo, "member")
    assert member.api_key is not None
    for header in ({"X-API-Key": member.api_key}, bearer(member.api_key)):
        assert_problem(await logout(client, header), 403, "api_key_not_allowed")
        changed = await change_password(client, header, member.password, NEW_PASSWORD)
        assert_problem(changed, 403, "api_key_not_allowed")
    assert (await who_am_i(client, {"X-API-Key": member.api_key})).json()["data"]["credential"] == "api_key"


@CACHE_TTLS
async def test_a_password_change_ends_every_other_session(
    database_url: str, account: Account, cache_ttl: float
) -> None:
    async with client_for(database_url, auth_cache_ttl=cache_ttl) as client:
        caller = await sign_in(client, account.email, account.password)
        other = await sign_in(client, account.email, account.password)
        for session in (caller, other):
            assert (await who_am_i(client, session.bearer())).status_code == 200

        response = await change_password(client, caller.bearer(), account.password, NEW_PASSWORD)

        assert response.status_code == 200, response.text
        assert response.json() == {"success": 1, "data": {"password_changed": True}}
        cookies = set_cookies(response)
        renewed = Session(token=cookies["auth_token"].value, csrf=cookies["csrf_token"].value)
        assert cookies["auth_token"]["httponly"] is True
        assert renewed.token != caller.token
        for session in (caller, other):
            assert_problem(await who_am_i(client, session.bearer()), 401, "session_revoked")
        assert (await who_am_i(client, renewed.cookie())).status_code == 200
        assert (await logout(client, renewed.cookie(csrf=renewed.csrf))).status_code == 200

        old = await client.post("/api/auth", json=login_body(account.email, account.password))
        assert_problem(old, 401, "invalid_credentials")
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

    body = assert_problem(response, 422, "weak_password")
    assert [error["field"] for error in body["errors"]] == ["new_password"]
    assert (await who_am_i(client, session.bearer())).status_code == 200, "a refused change ends no session"


async def test_a_wrong_current_password_is_refused(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)

    response = await change_password(client, session.bearer(), "not the password", NEW_PASSWORD)

    body = assert_problem(response, 422, "current_password_incorrect")
    assert [error["field"] for error in body["errors"]] == ["current_password"]
    assert (await who_am_i(client, session.bearer())).status_code == 200
    await sign_in(client, account.email, account.password)


# --- CSRF ----------------------------------------------------------------------------------------------------


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

    assert_problem(response, 403, "csrf_failed")
    assert (await who_am_i(client, session.cookie())).status_code == 200, "nothing happened: still signed in"


@UNSAFE_REQUESTS
async def test_a_cookie_authenticated_post_with_the_csrf_header_is_allowed(
    client: Client, account: Account, request_kind: str
) -> None:
    session = await sign_in(client, account.email, account.password)

    response = await _unsafe(client, request_kind, account, session.cookie(csrf=session.csrf))

    assert response.status_code == 200, response.text
    assert response.json()["success"] == 1
    assert_problem(await who_am_i(client, session.cookie()), 401, "session_revoked")


@UNSAFE_REQUESTS
async def test_bearer_requests_need_no_csrf_header(client: Client, account: Account, request_kind: str) -> None:
    """The Bearer token decides even next to a cookie, and a script cannot be made to send it cross-site."""
    session = await sign_in(client, account.email, account.password)
    other = await sign_in(client, account.email, account.password)

    response = await _unsafe(client, request_kind, account, other.cookie() | session.bearer())

    assert response.status_code == 200, response.text
    assert_problem(await who_am_i(client, session.bearer()), 401, "session_revoked")


async def test_safe_methods_need_no_csrf_header(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    response = await who_am_i(client, session.cookie())
    assert response.status_code == 200, response.text


# --- who am I -------------------------------------------------------------------------------------------------


async def test_who_am_i_describes_the_session(client: Client, demo: DemoData) -> None:
    member = user(demo, "member")
    session = await sign_in_demo(client, member)

    response = await who_am_i(client, session.cookie())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] == 1
    data = body["data"]
    assert data["user_email"] == member.email
    assert data["organization_id"] == demo.organization.id
    assert data["organization_name"] == demo.organization.name
    assert data["tier"] == demo.organization.tier
    assert data["role"] == "member"
    assert data["workspace_ids"] == sorted(member.workspace_ids)
    assert data["credential"] == "session"
    assert data["key_id"] is None
    assert data["read_only"] is False
    assert data["pinned_workspace_id"] is None
    assert (data["mfa_enabled"], data["mfa_verified"]) == (True, True)


async def test_who_am_i_without_mfa(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    data = (await who_am_i(client, session.bearer())).json()["data"]
    assert (data["credential"], data["role"], data["workspace_ids"]) == ("session", "member", [])
    assert (data["mfa_enabled"], data["mfa_verified"]) == (False, False)


# --- audit ----------------------------------------------------------------------------------------------------


async def test_the_audit_trail_records_sessions_and_never_a_password(
    client: Client, database_url: str, account: Account
) -> None:
    await client.post("/api/auth", json=login_body("nobody@example.com", PASSWORD))
    await client.post("/api/auth", json=login_body(account.email, "wrong " + PASSWORD))
    session = await sign_in(client, account.email, account.password, remember_me=True)
    changed = await change_password(client, session.bearer(), account.password, NEW_PASSWORD)
    assert changed.status_code == 200, changed.text
    renewed = changed.cookies["auth_token"]
    assert (await logout(client, bearer(renewed))).status_code == 200

    events = [event for event in await audit_trail(database_url) if event.event.startswith(("login", "logout", "pass"))]

    assert [event.event for event in events] == [
        "login.failed",
        "login.failed",
        "login.succeeded",
        "password.changed",
        "logout",
    ]
    unknown, wrong, *rest = events
    assert (unknown.actor_user_id, unknown.organization_id) == (None, None)
    assert unknown.data == {"reason": "unknown_email"}
    assert wrong.actor_user_id == account.id
    assert all(event.actor_user_id == account.id and event.organization_id is not None for event in rest)
    assert rest[0].data == {"remember_me": True, "mfa": False}
    for event in events:
        text = row_text(event)
        for secret in (PASSWORD, NEW_PASSWORD, session.token, session.csrf, renewed):
            assert secret not in text, (event.event, secret)


# --- bad input --------------------------------------------------------------------------------------------------

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
    assert_problem(response, response.status_code)


@pytest.mark.parametrize(("content", "content_type"), BAD_LOGIN_BODIES)
async def test_bad_login_input_is_a_4xx_problem(client: Client, content: bytes, content_type: str) -> None:
    assert_client_error(await client.post("/api/auth", content=content, headers={"Content-Type": content_type}))


async def test_the_length_limits_are_inclusive(client: Client) -> None:
    """An email of 320 and a password of 1024 characters are checked like any other, not refused as input."""
    body = login_body("a" * 308 + "@example.com", "x" * 1024)
    assert len(body["email"]) == 320
    assert_problem(await client.post("/api/auth", json=body), 401, "invalid_credentials")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
async def test_a_login_needs_a_json_content_type(client: Client, account: Account, content_type: str) -> None:
    """A body that is valid JSON but labelled otherwise is refused and signs nobody in.

    Browsers send these types cross-site without a CORS preflight: accepting them would be a login CSRF.
    """
    content = json.dumps(login_body(account.email, account.password)).encode()
    response = await client.post("/api/auth", content=content, headers={"Content-Type": content_type})
    assert_problem(response, 415, "unsupported_media_type")
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
