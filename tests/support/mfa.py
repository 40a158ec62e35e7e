"""The TOTP second factor for the tests: an authenticator app handing out real codes, signing in, MFA calls.

The server accepts each 30-second step at most once and never one earlier than the last accepted, so the
`Authenticator` hands out codes for ever later steps of the ±1 drift window: at least two per user, which
is all any test needs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp
import pytest

from tabular.auth.totp import STEP_SECONDS
from tabular.db import Organization
from tabular.vocabulary import Role
from tests.support.clients import Client, at_once, bearer
from tests.support.db import committed_session
from tests.support.factories import new_user

if TYPE_CHECKING:
    from httpx import Response

    from tabular.demo import DemoData
    from tabular.settings import Settings


MFA = "/api/auth/mfa"


ACTIONS_WITH_A_CODE = ("confirm", "disable", "recovery-codes")


PASSWORD = "Correct-Horse-Battery-9"


RECOVERY_CODE = re.compile(r"^[a-z2-9]{4}(-[a-z2-9]{4}){3}$")


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
    session: str = ""
    """The session token confirming MFA handed back (it ends every other session, the one that asked too)."""

    @property
    def authenticator(self) -> Authenticator:
        assert self.app is not None, "not enrolled"
        return self.app


async def new_member(database_url: str, demo: DemoData, email: str = "new.member@demo.tabular.test") -> Account:
    """A fresh member of the demo organization, without MFA."""
    async with committed_session(database_url) as session:
        organization = await session.get_one(Organization, UUID(demo.organization.id))
        created = await new_user(
            session, organization, email=email, name="New Member", role=Role.MEMBER, password=PASSWORD
        )
    return Account(email=created.email, user_id=created.id)


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
    """Sorted statuses of `times` sign-ins with `code` that really overlap."""
    return sorted(response.status_code for response in await sign_ins_together(settings, who, [code] * times))


async def sign_ins_together(settings: Settings, who: Account, codes: list[str]) -> list[Response]:
    """The answers to one sign-in per code in `codes`, sent at once so they really overlap, in `codes`' order."""
    return await posts_together(settings, "/api/auth", [login_body(who, code) for code in codes])


async def posts_together(
    settings: Settings, path: str, bodies: list[Any], headers: dict[str, str] | None = None
) -> list[Response]:
    """The answers to one POST of each body to `path`, sent at once (`at_once`), in `bodies`' order."""
    return await at_once(settings, [("POST", path, headers or {}, body) for body in bodies])


def login_body(who: Account, code: str) -> dict[str, Any]:
    return {"email": who.email, "password": who.password, "action": "login", "otp": code}


async def enrol(client: Client, account: Account, token: str) -> Account:
    """Set up and confirm MFA through the API with the session `token` (one code used): the account, now with
    its authenticator, recovery codes and the new session confirming handed back (it ends every other one,
    `token` too)."""
    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    account.app = Authenticator(setup.json()["data"]["secret"])
    confirmed = await mfa_post(client, "confirm", token, {"code": account.authenticator.code()})
    account.recovery_codes = assert_recovery_codes(confirmed)
    account.session = confirmed.cookies["auth_token"]
    return account


async def mfa_post(client: Client, action: str, token: str, body: object = None) -> Response:
    return await client.post(f"{MFA}/{action}", json=body, headers=bearer(token))


async def who_am_i(client: Client, token: str) -> dict[str, Any]:
    response = await client.get("/api/auth", headers=bearer(token))
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def assert_mfa_problem(response: Response, status: int, code: str) -> None:
    request = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, (request, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), request
    body = response.json()
    assert (body["code"], body["success"]) == (code, 0), request


def assert_refused_sign_in(response: Response, code: str) -> None:
    assert_mfa_problem(response, 401, code)
    assert "set-cookie" not in response.headers


def assert_recovery_codes(response: Response) -> list[str]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] == 1
    codes: list[str] = body["data"]["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(RECOVERY_CODE.fullmatch(code) for code in codes), codes
    return codes
