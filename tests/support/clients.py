"""HTTP steps of the integration tests: demo callers, signing in, the headers each credential travels in."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
import pyotp
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from httpx import Response

    from tabular.demo import DemoData, DemoUser
    from tabular.settings import Settings

Client = AsyncTestClient[Litestar]


def user(demo: DemoData, role: str, index: int = 0) -> DemoUser:
    """A demo user: admin, member (0: in workspace 1, 1: in workspace 2) or client."""
    return [u for u in demo.users if u.role == role][index]


def workspace(demo: DemoData, index: int) -> str:
    """The id of a demo workspace (0: Customer Insights, 1: Product Research)."""
    return demo.workspaces[index].id


def demo_survey(demo: DemoData, title: str) -> str:
    return next(survey.id for survey in demo.surveys if survey.title == title)


def otp(secret: str | None) -> str:
    """The current TOTP code (the server accepts each 30-second step once per user)."""
    assert secret is not None
    return pyotp.TOTP(secret).now()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def api_key(who: DemoUser) -> dict[str, str]:
    """Headers authenticating as the demo user's API key."""
    return {"X-API-Key": who.api_key}


def key(demo: DemoData, role: str, index: int = 0) -> dict[str, str]:
    """The API-key headers of a demo user, by role (see `user`)."""
    return api_key(user(demo, role, index))


async def login(client: Client, who: DemoUser, **extra: Any) -> str:
    """Sign in with password and TOTP; returns the session token (also left in the client's cookies)."""
    body = {"email": who.email, "password": who.password, "action": "login", "otp": otp(who.totp_secret)} | extra
    response = await client.post("/api/auth", json=body)
    assert response.status_code == 200, response.text
    token = response.cookies.get("auth_token")
    assert token
    return token


async def password_sign_in(client: Client, email: str, password: str) -> Response:
    """A sign-in with the password alone (users made by a test have no MFA unless it says so)."""
    return await client.post("/api/auth", json={"email": email, "password": password, "action": "login"})


def bearer_of(response: Response) -> dict[str, str]:
    """Bearer headers of the session a successful sign-in answered with."""
    assert response.status_code == 200, response.text
    return bearer(response.cookies["auth_token"])


async def session_headers(client: Client, who: DemoUser) -> dict[str, str]:
    """Bearer headers of a fresh session of the demo user; cookies dropped so only the header authenticates."""
    token = await login(client, who)
    client.cookies.clear()
    return bearer(token)


async def user_id(client: Client, who: DemoUser) -> str:
    """The demo user's id, as who-am-I reports it to their API key."""
    response = await client.get("/api/auth", headers=api_key(who))
    assert response.status_code == 200, response.text
    return str(response.json()["data"]["user_id"])


@asynccontextmanager
async def app_client(database_url: str, **overrides: Any) -> AsyncIterator[Client]:
    """A client of an application with its own settings and identity cache, as a separate worker has."""
    async with AsyncTestClient(app=create_app(make_settings(database_url, **overrides))) as client:
        yield client


def ok(response: Response, status: int = 200) -> Any:
    """The JSON body of an answer with this status (None when empty)."""
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def assert_problem(response: Response, status: int, code: str | None = None) -> None:
    """An RFC 9457 answer with this status (and `code`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    if code is not None:
        assert response.json()["code"] == code, response.text


def without_request_id(response: Response) -> bytes:
    """A problem's bytes minus its `request_id` (checked to be the answer's `X-Request-ID`): the one part by
    which the answers to two requests differ, for tests that hold refusals to be indistinguishable."""
    marker = f',"request_id":"{response.headers["x-request-id"]}"'.encode()
    assert response.content.count(marker) == 1, response.text
    return response.content.replace(marker, b"")


def assert_client_error(response: Response, case: object = None) -> None:
    """Some 4xx problem, never a 500."""
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), (case, response.text)


def fields_of(response: Response) -> tuple[int, list[str]]:
    """A problem's status and the fields its errors point at ("" for an error without a field)."""
    body = response.json()
    return response.status_code, [error.get("field", "") for error in body.get("errors") or []]


Request = tuple[str, str, dict[str, str], object]
"""A request to send `at_once`: method, path, headers and a JSON body (None for none)."""


@asynccontextmanager
async def raw_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a second app started in this event loop, over a plain ASGI transport, calling from 127.0.0.1.

    The test client runs its app in a thread of its own and hands it one request at a time; through this
    one, requests really overlap (the way two workers, or two requests of one, race), and the peer is an
    address a test can trust as a proxy (`X-Forwarded-For` then names the client).
    """
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4321))
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as raw:
        yield raw


async def at_once(settings: Settings, requests: list[Request]) -> list[Response]:
    """The answers to `requests` sent at the same time (see `raw_client`), in the order given."""
    async with raw_client(settings) as raw:
        return list(
            await asyncio.gather(
                *(raw.request(method, path, headers=headers, json=body) for method, path, headers, body in requests)
            )
        )


def from_peer(app: Any) -> Any:
    """The app as reached from the address in the request's `X-Test-Peer` header (the test client has none)."""

    async def reached(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            peer = dict(scope["headers"]).get(b"x-test-peer", b"127.0.0.1").decode()
            scope = {**scope, "client": (peer, 5000)}
        await app(scope, receive, send)

    return reached
