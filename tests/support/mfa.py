"""The TOTP second factor for the tests: an authenticator app handing out real codes, signing in, MFA calls.

The server accepts each 30-second step at most once and never one earlier than the last accepted, so the
`Authenticator` hands out codes for ever later steps of the ±1 drift window: at least two per user, which
is all any test needs.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import pyotp
import pytest

from tabular.app import create_app
from tabular.auth.totp import STEP_SECONDS
from tabular.db import Organization
from tabular.vocabulary import Role
from tests.support.clients import Client, bearer
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


async def enrol(client: Client, account: Account, token: str) -> Account:
    """MFA confirmed through the API for the signed-in account (one code used), with its recovery codes."""
    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    account.app = Authenticator(setup.json()["data"]["secret"])
    account.recovery_codes = assert_recovery_codes(
        await mfa_post(client, "confirm", token, {"code": account.authenticator.code()})
    )
    return account


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
