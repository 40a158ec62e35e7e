"""The limiter on live `tabular serve` processes over loopback: exactness across workers, proxy headers.

Bounded: at most a few hundred requests per test, every request with a timeout, servers stopped after.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.live import demo_database, serving, status_of

if TYPE_CHECKING:
    from tabular.demo import DemoData


def test_exactly_the_limit_is_admitted_across_four_workers(
    tmp_path: Path, redis_url: str, sqlite_demo_template: tuple[Path, DemoData]
) -> None:
    """64 concurrent clients, 4 worker processes, one user's budget of 50: exactly 50 admitted."""
    limit, requests = 50, 192
    variables = {"TABULAR_REDIS_URL": redis_url, "TABULAR_RATE_LIMIT": f"{limit}/10m", "TABULAR_SECRET_KEY": "k" * 40}
    template, demo = sqlite_demo_template
    demo_database(tmp_path, template)
    key = demo.users[0].api_key
    assert key is not None
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
