"""The TOTP second factor end to end, on both engines.

Enrolment (setup, confirm), sign-in with a code or a recovery code, replay, throttling of wrong codes,
disabling, new recovery codes, API keys refused, the audit trail, and hostile input.

Every code is real. An `Authenticator` plays the user's app: the server accepts each 30-second step at
most once and never one earlier than the last accepted, so it hands out codes for ever later steps of
the ±1 drift window: at least two per user, which is all any test here needs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import httpx
import msgspec
import pyotp
import pytest
from sqlalchemy import func, select, update

from tabular.app import create_app
from tabular.auth.totp import STEP_SECONDS
from tabular.db import AuditEvent, RecoveryCode, User
from tabular.db.base import utcnow
from tabular.db.config import make_db_config
from tabular.services.mfa import LOCKOUT
from tabular.services.users import UserService
from tabular.vocabulary import Role
from tests.support.clients import bearer, user
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from httpx import Response
    from litestar import Litestar
    from litestar.testing import AsyncTestClient
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData
    from tabular.settings import Settings

    Client = AsyncTestClient[Litestar]

pytestmark = pytest.mark.anyio

MFA = "/api/auth/mfa"
ACTIONS_WITH_A_CODE = ("confirm", "disable", "recovery-codes")
PASSWORD = "Correct-Horse-Battery-9"
RECOVERY_CODE = re.compile(r"^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$")
SAFETY_MARGIN = 10.0
"""Seconds a handed-out code stays inside the server's window at least, so a step change mid-test is harmless."""


@dataclass
class Authenticator:
    """The user's authenticator app, handing out each time step's code at most once, in increasing order."""

    secret: str
    last_step: int | None = None

    def code(self) -> str:
        now = time.time()
        current = int(now // STEP_SECONDS)
        first = current - 1 if self.last_step is None else max(self.last_step + 1, current - 1)
        for step in range(first, current + 2):
            if (step + 2) * STEP_SECONDS - now > SAFETY_MARGIN:  # the server still accepts it then
                self.last_step = step
                return pyotp.TOTP(self.secret).at(step * STEP_SECONDS)
        pytest.fail("the test used more codes than the drift window holds")

    def wrong_code(self) -> str:
        """Six digits no step near now produces."""
        totp, now = pyotp.TOTP(self.secret), time.time()
        near = {totp.at(now + offset * STEP_SECONDS) for offset in range(-3, 4)}
        return next(digit * 6 for digit in "0123456789" if digit * 6 not in near)


@dataclass
class Account:
    """A user of the demo organization, signed in with the password alone until a test enrols them."""

    email: str
    password: str = PASSWORD
    user_id: UUID | None = None
    app: Authenticator | None = None
    recovery_codes: list[str] = field(default_factory=list)

    @property
    def authenticator(self) -> Authenticator:
        assert self.app is not None, "not enrolled"
        return self.app


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session of its own on the test database, in one transaction."""
    config = make_db_config(make_settings(database_url))
    try:
        async with config.get_session() as session, session.begin():
            yield session
    finally:
        await config.get_engine().dispose()


async def sign_in(client: Client, email: str, password: str, otp: str | None = None) -> Response:
    body: dict[str, Any] = {"email": email, "password": password, "action": "login"}
    if otp is not None:
        body["otp"] = otp
    return await client.post("/api/auth", json=body)


async def signed_in(client: Client, email: str, password: str, otp: str | None = None) -> str:
    """The session token of a successful sign-in."""
    response = await sign_in(client, email, password, otp)
    assert response.status_code == 200, response.text
    token = response.cookies.get("auth_token")
    assert token
    return token


async def sign_in_together(settings: Settings, who: Account, code: str, times: int) -> list[int]:
    """Sorted statuses of `times` sign-ins with `code` that really overlap.

    The test client runs its app in a thread of its own and hands it one request at a time, so these go
    to a second app started in this event loop, through a plain ASGI transport.
    """
    body = {"email": who.email, "password": who.password, "action": "login", "otp": code}
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as raw:
        responses = await asyncio.gather(*(raw.post("/api/auth", json=body) for _ in range(times)))
    return sorted(response.status_code for response in responses)


async def mfa_post(client: Client, action: str, token: str, body: object = None) -> Response:
    return await client.post(f"{MFA}/{action}", json=body, headers=bearer(token))


async def who_am_i(client: Client, token: str) -> dict[str, Any]:
    response = await client.get("/api/auth", headers=bearer(token))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_problem(response: Response, status: int, code: str) -> None:
    request = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, (request, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), request
    body = response.json()
    assert (body["code"], body["success"]) == (code, 0), request


def assert_refused_sign_in(response: Response, code: str) -> None:
    assert_problem(response, 401, code)
    assert "set-cookie" not in response.headers


def assert_recovery_codes(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] == 1
    codes: list[str] = body["data"]["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(RECOVERY_CODE.fullmatch(code) for code in codes), codes
    return codes


async def audit_events(database_url: str, user_id: UUID) -> list[AuditEvent]:
    async with database(database_url) as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.actor_user_id == user_id).order_by(AuditEvent.seq)
        )
        return list(rows)


async def set_last_failure(database_url: str, email: str, when: dt.datetime) -> None:
    """Move the user's last wrong code back in time (the server's clock cannot be moved)."""
    async with database(database_url) as session:
        await session.execute(update(User).where(User.email == email).values(mfa_failed_at=when))


async def recovery_code_rows(database_url: str, user_id: UUID) -> int:
    async with database(database_url) as session:
        count = await session.scalar(select(func.count()).where(RecoveryCode.user_id == user_id))
        return int(count or 0)


@pytest.fixture
async def account(database_url: str, demo: DemoData) -> Account:
    """A fresh member of the demo organization, without MFA."""
    email = "new.member@demo.tabular.test"
    async with database(database_url) as session:
        created = await UserService(session).create_user(
            organization_id=UUID(demo.organization.id),
            email=email,
            name="New Member",
            role=Role.MEMBER,
            password=PASSWORD,
        )
    return Account(email=email, user_id=created.id)


@pytest.fixture
async def token(client: Client, account: Account) -> str:
    """The account's session, signed in with the password (before any enrolment)."""
    return await signed_in(client, account.email, account.password)


@pytest.fixture
async def enrolled(client: Client, account: Account, token: str) -> Account:
    """The account with MFA confirmed through the API (one code used) and its recovery codes."""
    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    account.app = Authenticator(setup.json()["data"]["secret"])
    account.recovery_codes = assert_recovery_codes(
        await mfa_post(client, "confirm", token, {"code": account.authenticator.code()})
    )
    return account


@pytest.fixture
def admin(demo: DemoData) -> Account:
    """The demo admin: MFA on from the seed, no recovery codes."""
    who = user(demo, "admin")
    assert who.totp_secret is not None
    return Account(email=who.email, password=who.password, app=Authenticator(who.totp_secret))


# Enrolment


async def test_enrolment_turns_mfa_on_only_with_a_right_code(client: Client, account: Account, token: str) -> None:
    assert (await who_am_i(client, token))["mfa_enabled"] is False

    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    assert setup.json()["success"] == 1
    secret, uri = setup.json()["data"]["secret"], urlsplit(setup.json()["data"]["otpauth_uri"])
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", f"/Tabular:{account.email}")
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Tabular"]
    app = Authenticator(secret)

    assert_problem(await mfa_post(client, "confirm", token, {"code": app.wrong_code()}), 401, "invalid_otp")
    assert (await who_am_i(client, token))["mfa_enabled"] is False
    await signed_in(client, account.email, account.password)  # still no second factor asked

    confirmed = await mfa_post(client, "confirm", token, {"code": app.code()})
    assert_recovery_codes(confirmed)
    verified_token = confirmed.cookies.get("auth_token")
    assert verified_token
    assert verified_token != token
    me = await who_am_i(client, verified_token)
    assert (me["mfa_enabled"], me["mfa_verified"]) == (True, True)
    assert (await who_am_i(client, token))["mfa_enabled"] is True


async def test_setup_again_before_confirming_replaces_the_pending_secret(client: Client, token: str) -> None:
    first = (await mfa_post(client, "setup", token)).json()["data"]["secret"]
    second = (await mfa_post(client, "setup", token)).json()["data"]["secret"]
    assert first != second
    assert_problem(await mfa_post(client, "confirm", token, {"code": Authenticator(first).code()}), 401, "invalid_otp")
    assert_recovery_codes(await mfa_post(client, "confirm", token, {"code": Authenticator(second).code()}))


async def test_confirm_without_setup_is_a_conflict(client: Client, token: str) -> None:
    assert_problem(await mfa_post(client, "confirm", token, {"code": "123456"}), 409, "mfa_not_set_up")


async def test_the_secret_is_never_readable_again(client: Client, enrolled: Account, token: str) -> None:
    secret = enrolled.authenticator.secret
    me = await client.get("/api/auth", headers=bearer(token))
    assert me.status_code == 200
    assert secret not in me.text

    again = await mfa_post(client, "setup", token)
    assert_problem(again, 409, "mfa_already_enabled")
    assert secret not in again.text
    assert "otpauth" not in again.text
    assert "secret" not in again.json()
    assert_problem(await mfa_post(client, "confirm", token, {"code": "123456"}), 409, "mfa_already_enabled")

    signed = await sign_in(client, enrolled.email, enrolled.password, enrolled.authenticator.code())
    assert signed.status_code == 200, "the refused setup must not have replaced the secret"
    assert secret not in signed.text


# Signing in


async def test_after_enrolment_sign_in_needs_a_code_and_a_code_works_once(client: Client, enrolled: Account) -> None:
    email, password = enrolled.email, enrolled.password
    assert_refused_sign_in(await sign_in(client, email, password), "mfa_required")
    assert_refused_sign_in(await sign_in(client, email, "wrong password"), "invalid_credentials")

    code = enrolled.authenticator.code()
    token = await signed_in(client, email, password, code)
    assert (await who_am_i(client, token))["mfa_verified"] is True
    assert_refused_sign_in(await sign_in(client, email, password, code), "invalid_otp")


async def test_an_earlier_code_is_refused_after_a_later_one(client: Client, admin: Account) -> None:
    app = admin.authenticator
    earlier, later = app.code(), app.code()
    await signed_in(client, admin.email, admin.password, later)
    assert_refused_sign_in(await sign_in(client, admin.email, admin.password, earlier), "invalid_otp")


async def test_a_recovery_code_signs_in_once(client: Client, enrolled: Account) -> None:
    first, second = enrolled.recovery_codes[:2]
    await signed_in(client, enrolled.email, enrolled.password, first)
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, first), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, second.upper().replace("-", ""))


# Concurrency: a code is accepted once and every wrong one counts, however the requests interleave


async def test_concurrent_sign_ins_with_one_code_let_one_in(settings: Settings, admin: Account) -> None:
    statuses = await sign_in_together(settings, admin, admin.authenticator.code(), times=4)
    assert statuses == [200, 401, 401, 401]


async def test_concurrent_sign_ins_with_one_recovery_code_let_one_in(settings: Settings, enrolled: Account) -> None:
    statuses = await sign_in_together(settings, enrolled, enrolled.recovery_codes[0], times=4)
    assert statuses == [200, 401, 401, 401]


async def test_concurrent_wrong_codes_are_all_counted(settings: Settings, admin: Account) -> None:
    statuses = await sign_in_together(settings, admin, admin.authenticator.wrong_code(), times=8)
    assert statuses == [401] * 5 + [429] * 3


# Throttling


async def test_after_five_wrong_codes_even_a_right_one_is_throttled(client: Client, admin: Account) -> None:
    app = admin.authenticator
    token = await signed_in(client, admin.email, admin.password, app.code())
    for _ in range(5):
        assert_refused_sign_in(await sign_in(client, admin.email, admin.password, app.wrong_code()), "invalid_otp")

    right = app.code()
    throttled = await sign_in(client, admin.email, admin.password, right)
    assert_problem(throttled, 429, "mfa_throttled")
    assert "set-cookie" not in throttled.headers
    assert 14 * 60 < int(throttled.headers["retry-after"]) <= 15 * 60 + 1

    # The count is the user's, whichever endpoint the code goes to.
    disabled = await mfa_post(client, "disable", token, {"code": right})
    assert_problem(disabled, 429, "mfa_throttled")
    assert "retry-after" in disabled.headers


async def test_the_lockout_ends_after_fifteen_minutes(client: Client, admin: Account, database_url: str) -> None:
    for _ in range(5):
        await sign_in(client, admin.email, admin.password, admin.authenticator.wrong_code())
    code = admin.authenticator.code()
    assert_problem(await sign_in(client, admin.email, admin.password, code), 429, "mfa_throttled")

    await set_last_failure(database_url, admin.email, utcnow() - LOCKOUT - dt.timedelta(seconds=1))
    await signed_in(client, admin.email, admin.password, code)


async def test_a_right_code_resets_the_count_of_wrong_ones(client: Client, admin: Account) -> None:
    app = admin.authenticator
    for _ in range(2):
        for _ in range(4):
            assert_refused_sign_in(await sign_in(client, admin.email, admin.password, app.wrong_code()), "invalid_otp")
        await signed_in(client, admin.email, admin.password, app.code())


async def test_wrong_codes_on_the_mfa_endpoints_count_too(client: Client, enrolled: Account, token: str) -> None:
    wrong = enrolled.authenticator.wrong_code()
    for action in ("disable", "recovery-codes", "disable", "recovery-codes", "disable"):
        assert_problem(await mfa_post(client, action, token, {"code": wrong}), 401, "invalid_otp")
    throttled = await sign_in(client, enrolled.email, enrolled.password, enrolled.recovery_codes[0])
    assert_problem(throttled, 429, "mfa_throttled")


# Disabling and new recovery codes


async def test_disable_with_a_recovery_code(client: Client, enrolled: Account, token: str, database_url: str) -> None:
    disabled = await mfa_post(client, "disable", token, {"code": enrolled.recovery_codes[0]})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {"success": 1, "data": {"mfa_enabled": False}}

    assert (await who_am_i(client, token))["mfa_enabled"] is False
    await signed_in(client, enrolled.email, enrolled.password)
    assert enrolled.user_id is not None
    assert await recovery_code_rows(database_url, enrolled.user_id) == 0
    for action in ("disable", "recovery-codes"):
        assert_problem(await mfa_post(client, action, token, {"code": "123456"}), 409, "mfa_not_enabled")


async def test_disable_with_a_totp_code_allows_a_new_enrolment(client: Client, enrolled: Account, token: str) -> None:
    disabled = await mfa_post(client, "disable", token, {"code": enrolled.authenticator.code()})
    assert disabled.status_code == 200, disabled.text
    await signed_in(client, enrolled.email, enrolled.password)

    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    assert setup.json()["data"]["secret"] != enrolled.authenticator.secret


async def test_disable_refuses_a_wrong_code(client: Client, enrolled: Account, token: str) -> None:
    assert_problem(
        await mfa_post(client, "disable", token, {"code": enrolled.authenticator.wrong_code()}), 401, "invalid_otp"
    )
    assert (await who_am_i(client, token))["mfa_enabled"] is True
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password), "mfa_required")


async def test_new_recovery_codes_replace_the_old_ones(client: Client, enrolled: Account, token: str) -> None:
    old = enrolled.recovery_codes
    assert_problem(await mfa_post(client, "recovery-codes", token, {"code": old[0]}), 401, "invalid_otp")

    new = assert_recovery_codes(
        await mfa_post(client, "recovery-codes", token, {"code": enrolled.authenticator.code()})
    )
    assert set(new).isdisjoint(old)
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, old[1]), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, new[0])


# API keys


async def test_every_mfa_endpoint_refuses_an_api_key(client: Client, demo: DemoData) -> None:
    key = user(demo, "admin").api_key
    assert key is not None
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        for action in ("setup", *ACTIONS_WITH_A_CODE):
            response = await client.post(f"{MFA}/{action}", json={"code": "123456"}, headers=headers)
            assert_problem(response, 403, "api_key_not_allowed")


# Audit


async def test_the_audit_trail_records_mfa_events_without_codes_or_secret(
    client: Client, enrolled: Account, token: str, database_url: str
) -> None:
    app, codes = enrolled.authenticator, enrolled.recovery_codes
    wrong = app.wrong_code()
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, wrong), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, codes[0])
    fresh = assert_recovery_codes(await mfa_post(client, "recovery-codes", token, {"code": app.code()}))
    assert (await mfa_post(client, "disable", token, {"code": fresh[0]})).status_code == 200

    assert enrolled.user_id is not None
    events = [event.event for event in await audit_events(database_url, enrolled.user_id) if "mfa" in event.event]
    assert events == [
        "mfa.enabled",
        "mfa.failed",
        "mfa.recovery_code_used",
        "mfa.recovery_codes_regenerated",
        "mfa.recovery_code_used",
        "mfa.disabled",
    ]
    secrets = [app.secret, wrong, *codes, *fresh, *(code.replace("-", "") for code in codes + fresh)]
    for event in await audit_events(database_url, enrolled.user_id):
        recorded = msgspec.json.encode([event.event, event.target_type, event.target_id, event.data]).decode()
        assert not [secret for secret in secrets if secret in recorded], recorded


# Hostile input

BAD_BODIES = [
    pytest.param(b'{"code": "12', id="malformed-json"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b"[]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b"{}", id="missing-code"),
    pytest.param(b'{"code": "123456", "extra": 1}', id="unknown-field"),
    pytest.param(b'{"code": "' + b"1" * 33 + b'"}', id="33-characters"),
    pytest.param(b'{"code": ""}', id="empty-code"),
    pytest.param(b'{"code": 123456}', id="number"),
    pytest.param(b'{"code": null}', id="null-code"),
    pytest.param(b'{"code": ["123456"]}', id="list-code"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_bad_input_is_a_client_problem_never_a_crash(client: Client, admin: Account, body: bytes) -> None:
    token = await signed_in(client, admin.email, admin.password, admin.authenticator.code())
    for action in ACTIONS_WITH_A_CODE:
        response = await client.post(
            f"{MFA}/{action}", content=body, headers=bearer(token) | {"Content-Type": "application/json"}
        )
        assert response.status_code in {400, 422}, (action, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["success"] == 0
    assert (await who_am_i(client, token))["mfa_enabled"] is True


@pytest.mark.parametrize(
    "otp", [pytest.param(123456, id="number"), pytest.param("1" * 33, id="33-characters"), pytest.param("", id="empty")]
)
async def test_a_malformed_otp_at_sign_in_is_a_client_problem(client: Client, admin: Account, otp: object) -> None:
    body = {"email": admin.email, "password": admin.password, "action": "login", "otp": otp}
    response = await client.post("/api/auth", json=body)
    assert response.status_code in {400, 422}, response.text
    assert response.json()["success"] == 0
    assert "set-cookie" not in response.headers


async def test_digits_of_other_scripts_are_a_wrong_code_not_a_crash(client: Client, admin: Account) -> None:
    code = admin.authenticator.code()
    arabic = "".join(chr(0x0660 + int(digit)) for digit in code)
    assert_refused_sign_in(await sign_in(client, admin.email, admin.password, arabic), "invalid_otp")
    token = await signed_in(client, admin.email, admin.password, code)
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in admin.authenticator.code())
    assert_problem(await mfa_post(client, "disable", token, {"code": fullwidth}), 401, "invalid_otp")


async def test_a_session_from_before_enrolment_cannot_create_keys(
    client: Client, enrolled: Account, token: str
) -> None:
    """MFA is on now, but this token was signed in with the password alone: no second factor, no key.

    The demo organization is on a paid tier, so the only refusal left is the missing second factor.
    """
    before = await client.post("/api/keys", json={"name": "ci"}, headers=bearer(token))
    assert before.status_code == 403
    assert before.json()["code"] == "mfa_required_for_keys"
    with_code = await signed_in(client, enrolled.email, enrolled.password, enrolled.authenticator.code())
    after = await client.post("/api/keys", json={"name": "ci"}, headers=bearer(with_code))
    assert after.status_code == 201, after.text
