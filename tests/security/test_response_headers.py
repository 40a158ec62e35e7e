"""Attacks on what the answers let a browser or a cache do: keep a secret, sniff a type, drop to plain http.

- A shared cache (or the browser's) keeping a login answer, a new key or a TOTP secret: every API answer
  is `Cache-Control: no-store`.
- Content sniffing: `X-Content-Type-Options: nosniff` on every answer, errors and the limiter's 429 too.
- Behind a TLS-terminating proxy the cookie must still be `Secure` and the browser told to stay on https
  (HSTS), believing `X-Forwarded-Proto` only from a trusted proxy.
- A 401 says how to authenticate (`WWW-Authenticate`).
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import app_client, key, session_headers, user
from tests.support.live import call, demo_database, serving
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from httpx import Response

    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio


def _guarded(response: Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.request.url
    assert response.headers["cache-control"] == "no-store", response.request.url


async def test_answers_that_carry_secrets_are_never_stored_nor_sniffed(client: Client, demo: DemoData) -> None:
    admin = user(demo, "admin")
    body = {"action": "login", "email": admin.email, "password": admin.password, "otp": _otp(admin)}
    signed_in = await client.post("/api/auth", json=body)
    assert signed_in.status_code == 200, signed_in.text
    _guarded(signed_in)  # it sets the session
    _guarded(await client.get("/api/auth"))
    client.cookies.clear()
    headers = await session_headers(client, user(demo, "member"))
    created = await client.post("/api/keys", json={"name": "secret in the answer"}, headers=headers)
    assert created.status_code == 201, created.text
    _guarded(created)
    for answer in (
        await client.post("/api/auth", json={"action": "login", "email": admin.email, "password": "wrong"}),
        await client.get("/api/keys"),  # 401, a problem
        await client.get("/api/surveys", headers=key(demo, "client")),
        await client.get("/api/surveys", params={"offset": "-1"}, headers=key(demo, "client")),  # 422
        await client.get("/api/no-such-route"),  # 404 before any route: answered outside the app's middleware
        await client.delete("/api/health"),  # 405, the same
    ):
        _guarded(answer)


async def test_the_limiters_429_is_guarded_too(database_url: str, demo: DemoData) -> None:
    from tabular.settings import RateSpec  # noqa: PLC0415 - one test's setting

    async with app_client(database_url, rate_limit=RateSpec(limit=1, window=60)) as limited:
        first = await limited.get("/api/auth", headers=key(demo, "admin"))
        refused = await limited.get("/api/auth", headers=key(demo, "admin"))
    assert (first.status_code, refused.status_code) == (200, 429)
    _guarded(refused)


async def test_a_401_says_how_to_authenticate(client: Client) -> None:
    refused = await client.get("/api/keys")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Bearer realm="tabular"'


def _login(base: str, who: Any, forwarded_proto: str | None) -> tuple[int, Any]:
    headers = {"X-Forwarded-Proto": forwarded_proto} if forwarded_proto else {}
    body = {"action": "login", "email": who.email, "password": who.password, "otp": _otp(who)}
    status, answer_headers, _ = call(f"{base}/api/auth", headers, body)
    return status, answer_headers


def _otp(who: Any) -> str:
    import pyotp  # noqa: PLC0415

    return pyotp.TOTP(who.totp_secret).now()


@pytest.mark.parametrize(
    ("trusted", "over_tls"),
    [("127.0.0.1/32", True), ("", False), ("10.0.0.0/8", False)],
    ids=["behind-a-trusted-tls-proxy", "no-proxy-configured", "peer-not-a-trusted-proxy"],
)
async def test_behind_a_tls_terminating_proxy_the_cookie_is_secure_and_hsts_is_sent(
    tmp_path: Path, sqlite_demo_template: tuple[Path, DemoData], trusted: str, over_tls: bool
) -> None:
    template, demo = sqlite_demo_template
    demo_database(tmp_path, template)
    variables = {"TABULAR_TRUSTED_PROXIES": trusted, "TABULAR_SECRET_KEY": TEST_SECRET}  # the demo's TOTP key
    with serving(tmp_path, **variables) as base:
        status, headers = _login(base, user(demo, "admin"), "https")
        plain_status, plain_headers = _login(base, user(demo, "member"), None)
    assert (status, plain_status) == (200, 200)
    cookies = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    assert bool(cookies["auth_token"]["secure"]) is over_tls
    assert bool(cookies["csrf_token"]["secure"]) is over_tls
    assert (headers.get("Strict-Transport-Security") == "max-age=31536000") is over_tls
    assert plain_headers.get("Strict-Transport-Security") is None, "no https said: none"
