"""The limiter on live `tabular serve` processes over loopback: exactness across workers, proxy headers.

Bounded: at most a few hundred requests per test, every request with a timeout, servers stopped after.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.servers import free_port, wait_for_port

if TYPE_CHECKING:
    from collections.abc import Iterator

TABULAR = str(Path(sys.executable).parent / "tabular")


@contextmanager
def serving(tmp_path: Path, *args: str, **variables: str) -> Iterator[str]:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TABULAR_")} | variables
    process = subprocess.Popen(
        [TABULAR, "serve", "--port", str(port), *args],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def status_of(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback only
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def demo_api_key(tmp_path: Path, **variables: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TABULAR_")} | variables
    output = subprocess.run(
        [TABULAR, "demo", "--json"], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True
    ).stdout
    key: str = json.loads(output)["users"][0]["api_key"]
    return key


def test_exactly_the_limit_is_admitted_across_four_workers(tmp_path: Path, redis_url: str) -> None:
    """64 concurrent clients, 4 worker processes, one user's budget of 50: exactly 50 admitted."""
    limit, requests = 50, 192
    variables = {"TABULAR_REDIS_URL": redis_url, "TABULAR_RATE_LIMIT": f"{limit}/10m", "TABULAR_SECRET_KEY": "k" * 40}
    key = demo_api_key(tmp_path, **variables)
    with serving(tmp_path, "--workers", "4", **variables) as base, ThreadPoolExecutor(max_workers=64) as pool:
        statuses = Counter(pool.map(lambda _: status_of(f"{base}/api/auth", {"X-API-Key": key}), range(requests)))
    assert statuses == {200: limit, 429: requests - limit}


@pytest.mark.parametrize(
    ("trusted", "same_budget"),
    [("127.0.0.1/32", False), ("", True), ("10.0.0.0/8", True)],
    ids=["trusted-proxy", "no-proxies-configured", "peer-not-a-trusted-proxy"],
)
def test_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path: Path, trusted: str, same_budget: bool) -> None:
    variables = {"TABULAR_RATE_LIMIT": "2/10m", "TABULAR_TRUSTED_PROXIES": trusted}
    with serving(tmp_path, **variables) as base:
        first = [status_of(f"{base}/api/keys", {"X-Forwarded-For": "198.51.100.1"}) for _ in range(3)]
        spoofed = status_of(f"{base}/api/keys", {"X-Forwarded-For": "198.51.100.2"})
    assert first == [401, 401, 429]
    assert spoofed == (429 if same_budget else 401)
