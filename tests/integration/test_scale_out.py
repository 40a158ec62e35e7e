"""The scale-out shape: `tabular serve --workers 4` on PostgreSQL and a three-master Redis Cluster.

The limiter admits exactly the limit under 64 concurrent clients; a revoked key and a signed-out session
are refused by every worker once the identity cache's time (1 s) has passed. Which worker served a
request is read from the access log (each line has the id the answer's `X-Request-ID` gave, and the worker's pid).
Bounded: a few hundred requests, every request with a timeout, polling at most 15 s, servers stopped.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import pyotp
import pytest

from tests.support.live import call, serving
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from pathlib import Path

    from tabular.demo import DemoData
    from tests.support.servers import PostgresServer, RedisClusterServers

pytestmark = pytest.mark.postgres

WORKERS = 4
LIMIT = 200
CACHE_SECONDS = 1.0  # Settings.auth_cache_ttl's default: how long a worker may trust what it cached
POLL_SECONDS = 15.0


class Workers:
    """Sends requests and learns, from the access log and each answer's id, which worker served each one."""

    def __init__(self, base: str, log: Path) -> None:
        self.base = base
        self.log = log

    def ask(self, path: str, headers: dict[str, str]) -> tuple[int, str]:
        """The status, and the request id the server gave the request (a client's own is not trusted)."""
        status, answer_headers, _ = call(self.base + path, headers)
        return status, str(answer_headers["X-Request-ID"])

    def pids(self, request_ids: set[str]) -> dict[str, int]:
        """The worker pid of each request id, once its line is in the log (written by a thread: waited for)."""
        deadline = time.monotonic() + POLL_SECONDS
        while True:
            lines = [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]
            found = {line["request_id"]: line["pid"] for line in lines if line.get("request_id") in request_ids}
            if len(found) == len(request_ids) or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def every_worker(self, path: str, headers: dict[str, str]) -> dict[int, set[int]]:
        """Ask until each of the workers has answered (bounded): the statuses each worker gave."""
        answers: dict[int, set[int]] = {}
        deadline = time.monotonic() + POLL_SECONDS
        for _ in range(5):  # at most 60 requests: three calls stay within the member's LIMIT
            if len(answers) == WORKERS or time.monotonic() > deadline:
                break
            # 12 at once: sent one after another, one idle worker can accept every connection on a busy machine
            with ThreadPoolExecutor(max_workers=12) as pool:
                asked = dict(pool.map(lambda _: self.ask(path, headers)[::-1], range(12)))  # request id -> status
            for request_id, pid in self.pids(set(asked)).items():
                answers.setdefault(pid, set()).add(asked[request_id])
        assert len(answers) == WORKERS, f"only {len(answers)} workers answered within {POLL_SECONDS}s"
        return answers


def _wait_for_every_worker(log: Path) -> None:
    """The port answers once one worker is up; on a busy machine the others start seconds later (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    while log.read_text().count("Application startup complete") < WORKERS:
        assert time.monotonic() < deadline, "not every worker started within 60 s"
        time.sleep(0.1)


@pytest.fixture
def cluster_app(
    tmp_path: Path,
    postgres: PostgresServer,
    postgres_demo_template: tuple[str, DemoData],
    redis_cluster: RedisClusterServers,
) -> Any:
    template, data = postgres_demo_template
    name = f"scale_{uuid.uuid4().hex}"
    postgres.execute(f'CREATE DATABASE "{name}" TEMPLATE {template}')
    redis_cluster.flush()
    variables = {
        "TABULAR_DATABASE_URL": postgres.url(name),
        "TABULAR_REDIS_URL": redis_cluster.url,
        "TABULAR_REDIS_CLUSTER": "true",
        "TABULAR_RATE_LIMIT": f"{LIMIT}/10m",
        "TABULAR_SECRET_KEY": TEST_SECRET,  # the demo's TOTP secrets are sealed under it
    }
    log = tmp_path / "access.log"
    try:
        with log.open("ab") as output, serving(tmp_path, "--workers", str(WORKERS), output=output, **variables) as base:
            _wait_for_every_worker(log)
            yield Workers(base, log), data
    finally:
        postgres.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_four_workers_on_a_redis_cluster_share_one_limit_and_see_revocations(cluster_app: Any) -> None:
    workers, data = cluster_app
    admin, member = data.users[0], next(u for u in data.users if u.role == "member")
    assert admin.api_key is not None
    assert member.api_key is not None
    status, _, ready = call(workers.base + "/api/ready", {})
    assert (status, ready.get("redis"), ready.get("limiter")) == (200, "ok", "redis"), ready

    # One budget across four processes, counted in the cluster: 64 clients, exactly LIMIT admitted.
    headers = {"X-API-Key": admin.api_key}
    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = Counter(pool.map(lambda _: call(workers.base + "/api/auth", headers)[0], range(2 * LIMIT)))
    assert statuses == {200: LIMIT, 429: LIMIT}

    # A revoked key: every worker has it cached and accepted; a cache time after the revocation, none does.
    key = {"X-API-Key": member.api_key}
    assert set().union(*workers.every_worker("/api/auth", key).values()) == {200}
    _, _, listed = call(workers.base + "/api/keys", key)
    key_id = next(item["id"] for item in listed["items"] if member.api_key.startswith(item["prefix"]))
    assert call(workers.base + f"/api/keys/{key_id}", key, method="DELETE")[0] == 204
    time.sleep(CACHE_SECONDS)
    refused = workers.every_worker("/api/auth", key)
    assert all(statuses == {401} for statuses in refused.values()), refused

    # A signed-out session: the same, through the revocation table.
    login = {"email": member.email, "password": member.password, "action": "login"}
    status, headers, body = call(workers.base + "/api/auth", {}, login | {"otp": pyotp.TOTP(member.totp_secret).now()})
    assert status == 200, body
    cookies = SimpleCookie("; ".join(headers.get_all("Set-Cookie")))
    session = {"Authorization": f"Bearer {cookies['auth_token'].value}"}
    assert set().union(*workers.every_worker("/api/auth", session).values()) == {200}
    assert call(workers.base + "/api/auth", session, {"action": "logout"})[0] == 200
    time.sleep(CACHE_SECONDS)
    refused = workers.every_worker("/api/auth", session)
    assert all(statuses == {401} for statuses in refused.values()), refused
