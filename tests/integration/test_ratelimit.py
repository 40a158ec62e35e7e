"""The rate limiter through the real application: headers, keying, the auth limit, Redis outages."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tabular.app import create_app
from tabular.demo import DemoData
from tabular.ratelimit.redis_backend import ResilientBackend
from tabular.settings import RateSpec
from tests.support.clients import login, otp, user
from tests.support.servers import RedisServer
from tests.support.settings import make_settings

pytestmark = pytest.mark.anyio

RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy", "ratelimit")


def limited_app(database_url: str, general: str = "1000/15m", auth: str = "20/15m", **extra: Any) -> Litestar:
    settings = make_settings(
        database_url, rate_limit=RateSpec.parse(general), auth_rate_limit=RateSpec.parse(auth), **extra
    )
    return create_app(settings)


def trio(response: Any) -> tuple[int, int, int]:
    return (
        int(response.headers["ratelimit-limit"]),
        int(response.headers["ratelimit-remaining"]),
        int(response.headers["ratelimit-reset"]),
    )


async def test_headers_on_first_last_refused_and_after_slots_free(database_url: str) -> None:
    async with AsyncTestClient(limited_app(database_url, general="3/2s")) as client:
        first = await client.get("/api/keys")
        assert first.status_code == 401  # errors carry the headers too
        assert trio(first) == (3, 2, 3)  # the window (2 s) plus the current bucket, rounded up
        assert first.headers["ratelimit-policy"] == '"general";q=3;w=2'
        assert first.headers["ratelimit"] == '"general";r=2;t=3'
        await client.get("/api/keys")
        last = await client.get("/api/keys")
        assert trio(last)[:2] == (3, 0)
        refused = await client.get("/api/keys")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "rate_limited"
        limit, remaining, reset = trio(refused)
        assert (limit, remaining) == (3, 0)
        assert 1 <= reset <= 3
        assert int(refused.headers["retry-after"]) >= reset
        await asyncio.sleep(reset + 0.1)
        freed = await client.get("/api/keys")
        assert freed.status_code == 401
        assert trio(freed)[1] >= 0
        assert all(name in freed.headers for name in RATE_HEADERS)


async def test_health_probes_are_exempt(database_url: str) -> None:
    async with AsyncTestClient(limited_app(database_url, general="1/1m")) as client:
        for _ in range(3):
            response = await client.get("/api/health")
            assert response.status_code == 200
            assert "ratelimit-limit" not in response.headers
        assert (await client.get("/api/ready")).status_code == 200


async def test_the_21st_login_attempt_is_refused_even_with_the_right_password(
    database_url: str, demo: DemoData
) -> None:
    admin = user(demo, "admin")
    async with AsyncTestClient(limited_app(database_url)) as client:
        for _ in range(20):
            wrong = await client.post("/api/auth", json={"email": admin.email, "password": "nope", "action": "login"})
            assert wrong.status_code == 401
        right = {"email": admin.email, "password": admin.password, "action": "login", "otp": otp(admin.totp_secret)}
        refused = await client.post("/api/auth", json=right)
        assert refused.status_code == 429
        assert refused.json() == refused.json() | {"code": "rate_limited", "success": 0}
        assert "auth_token" not in refused.cookies
        assert '"auth";q=20;w=900' in refused.headers["ratelimit-policy"]
        # who-am-I is not a credential-submitting request: only the general limit applies to it
        assert (await client.get("/api/auth")).status_code == 401


async def test_a_users_keys_and_sessions_share_one_budget(database_url: str, demo: DemoData) -> None:
    admin = user(demo, "admin")
    async with AsyncTestClient(limited_app(database_url, general="10/1m")) as client:
        token = await login(client, admin)  # anonymous (per IP) until it succeeds
        client.cookies.clear()
        by_key = await client.get("/api/auth", headers={"X-API-Key": admin.api_key})
        by_session = await client.get("/api/auth", headers={"Authorization": f"Bearer {token}"})
        assert int(by_session.headers["ratelimit-remaining"]) == int(by_key.headers["ratelimit-remaining"]) - 1
        other = user(demo, "member")
        by_other_user = await client.get("/api/auth", headers={"X-API-Key": other.api_key})
        assert int(by_other_user.headers["ratelimit-remaining"]) == 9


async def test_failed_authentication_counts_against_the_client_ip(database_url: str) -> None:
    async with AsyncTestClient(limited_app(database_url, general="5/1m")) as client:
        for _ in range(5):
            guess = await client.get("/api/auth", headers={"X-API-Key": "tp_" + "A" * 48})
            assert guess.status_code == 401
        assert (await client.get("/api/auth", headers={"X-API-Key": "tp_" + "B" * 48})).status_code == 429
        assert (await client.get("/api/keys")).status_code == 429  # the same IP, anonymous


async def test_redis_outage_falls_back_and_recovers(database_url: str, tmp_path: Any) -> None:
    server = RedisServer(tmp_path)
    server.start()
    app = limited_app(database_url, general="100/1m", redis_url=server.url)
    limiter: ResilientBackend = app.state.rate_limiter
    limiter.retry_after = 0.2
    try:
        async with AsyncTestClient(app) as client:
            assert (await client.get("/api/keys")).headers["ratelimit-remaining"] == "99"
            assert (await client.get("/api/ready")).json()["limiter"] == "redis"
            server.stop()
            during = [await client.get("/api/keys") for _ in range(3)]
            assert [r.status_code for r in during] == [401, 401, 401]  # never a 500
            assert all("ratelimit-remaining" in r.headers for r in during)
            ready = await client.get("/api/ready")
            assert ready.status_code == 200
            assert (
                ready.json() | {"status": "degraded", "redis": "down", "limiter": "in_process_fallback"} == ready.json()
            )
            server.start()  # same port, empty data
            await asyncio.sleep(0.3)
            back = await client.get("/api/keys")
            assert back.status_code == 401
            assert back.headers["ratelimit-remaining"] == "99"  # counted in the fresh Redis again
            assert (await client.get("/api/ready")).json()["limiter"] == "redis"
    finally:
        server.stop()
