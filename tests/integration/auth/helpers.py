"""Shared steps of the authentication tests: signing in as a demo user, current TOTP codes."""

from __future__ import annotations

from typing import Any

import pyotp
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.demo import DemoData, DemoUser


def user(demo: DemoData, role: str, index: int = 0) -> DemoUser:
    return [u for u in demo.users if u.role == role][index]


def otp(secret: str | None) -> str:
    assert secret is not None
    return pyotp.TOTP(secret).now()


async def login(client: AsyncTestClient[Litestar], who: DemoUser, **extra: Any) -> str:
    """Sign in with password and TOTP; returns the session token (also left in the client's cookies)."""
    body = {"email": who.email, "password": who.password, "action": "login", "otp": otp(who.totp_secret)} | extra
    response = await client.post("/api/auth", json=body)
    assert response.status_code == 200, response.text
    token = response.cookies.get("auth_token")
    assert token
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
