"""Authentication costs: argon2 parameters and timings, login latency, API-key verification (cold and warm).

Run: `uv run python bench/auth.py` (about half a minute). It builds a throw-away SQLite database with
the demo data, drives the real application in-process, and counts SQL statements per request.
"""

from __future__ import annotations

import asyncio
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import pyotp
from argon2 import PasswordHasher
from demo_database import demo_database
from litestar.testing import AsyncTestClient
from sqlalchemy import event

from tabular.app import create_app
from tabular.auth.api_key_backend import hash_key
from tabular.schemas.users import UserCreate
from tabular.services.users import UserService
from tabular.vocabulary import Role

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tabular.demo import DemoData
    from tabular.services.actor import Actor

ROUNDS = 200
BENCH_EMAIL = "bench@bench.test"
BENCH_PASSWORD = "bench-password-42"  # noqa: S105 - a throw-away database


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(ordered) * 1e3:8.3f} ms   p95 {p95 * 1e3:8.3f} ms   (n={len(ordered)})"


async def _time(work: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await work()
        samples.append(time.perf_counter() - start)
    return samples


def argon2_figures() -> None:
    hasher = PasswordHasher()
    params = hasher._parameters  # noqa: SLF001 - printed for the record only
    print(
        f"argon2id parameters: time_cost={params.time_cost} memory_cost={params.memory_cost} KiB "
        f"parallelism={params.parallelism} hash_len={params.hash_len} salt_len={params.salt_len}"
    )
    encoded = hasher.hash("correct horse battery staple")
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        hasher.verify(encoded, "correct horse battery staple")
        samples.append(time.perf_counter() - start)
    print(f"argon2id verify (one core)          {_ms(samples)}")


async def app_figures(directory: Path) -> None:
    async def bench_user(operator: Actor, demo: DemoData) -> None:
        body = UserCreate(email=BENCH_EMAIL, name="Bench", role=Role.MEMBER, password=BENCH_PASSWORD)
        await UserService(operator).create(body, organization_id=UUID(demo.organization.id))

    settings, demo = await demo_database(directory, then=bench_user)
    admin = demo.users[0]

    app = create_app(settings)
    statements = 0

    async with AsyncTestClient(app) as client:
        engine = app.state[next(k for k in app.state if str(k).startswith("db_engine"))]

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(engine.sync_engine, "before_cursor_execute", count)

        async def login() -> None:
            body = {"email": BENCH_EMAIL, "password": BENCH_PASSWORD, "action": "login"}
            response = await client.post("/api/auth", json=body)
            assert response.status_code == 200, response.text

        async def failed_login() -> None:
            body = {"email": "nobody@bench.test", "password": BENCH_PASSWORD, "action": "login"}
            response = await client.post("/api/auth", json=body)
            assert response.status_code == 401, response.text

        print(f"POST /api/auth login                 {_ms(await _time(login, 20))}")
        print(f"POST /api/auth unknown email         {_ms(await _time(failed_login, 20))}")
        body = {"email": admin.email, "password": admin.password, "action": "login"}
        body["otp"] = pyotp.TOTP(admin.totp_secret).now()
        start = time.perf_counter()
        assert (await client.post("/api/auth", json=body)).status_code == 200
        print(f"POST /api/auth login with TOTP       {(time.perf_counter() - start) * 1e3:8.3f} ms (one code per step)")

        headers = {"X-API-Key": admin.api_key}

        async def health_with_key() -> None:
            response = await client.get("/api/health", headers=headers)
            assert response.status_code == 200

        await health_with_key()  # warm the identity cache
        statements = 0
        warm = await _time(health_with_key, ROUNDS)
        print(f"API-key request, warm cache          {_ms(warm)}   SQL/request {statements / ROUNDS:.2f}")

        identities = app.state.auth_engine.identities
        key_hash = hash_key(admin.api_key)

        async def cold() -> None:
            identities.forget_key(key_hash)
            identities.forget_user(demo_user_id)
            await health_with_key()

        demo_user_id = (await identities.key_by_hash(key_hash)).user_id
        statements = 0
        cold_samples = await _time(cold, ROUNDS)
        print(f"API-key request, cold cache          {_ms(cold_samples)}   SQL/request {statements / ROUNDS:.2f}")

        async def anonymous() -> None:
            response = await client.get("/api/health")
            assert response.status_code == 200

        print(f"anonymous request (baseline)         {_ms(await _time(anonymous, ROUNDS))}")

    start = time.perf_counter()
    for _ in range(100_000):
        hash_key(admin.api_key)
    print(f"SHA-256 of a key                      {(time.perf_counter() - start) / 100_000 * 1e6:.3f} µs")


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    argon2_figures()
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(app_figures(Path(directory)))


if __name__ == "__main__":
    main()
