"""`/metrics` (`TABULAR_METRICS=true`): Prometheus text, parsed with `prometheus_client`'s own parser.

Requests go through a real app from 127.0.0.1 (`raw_client`); each check compares a counter before and
after, since one process keeps one registry for every app a test run builds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tabular.settings import RateSpec
from tests.support.clients import assert_problem, key, raw_client
from tests.support.settings import make_settings

if TYPE_CHECKING:
    import httpx

    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(client: httpx.AsyncClient) -> Samples:
    answer = await client.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples named `name` whose labels include `labels` grew."""
    wanted = set(labels.items())

    def total(samples: Samples) -> float:
        return sum(value for (sample, have), value in samples.items() if sample == name and wanted <= have)

    return total(after) - total(before)


async def test_requests_credentials_refusals_and_limits_are_counted(demo: DemoData, database_url: str) -> None:
    settings = make_settings(database_url, metrics=True, auth_rate_limit=RateSpec(limit=1, window=900))
    async with raw_client(settings) as client:
        before = await _scrape(client)
        assert (await client.get("/api/keys", headers=key(demo, "admin"))).status_code == 200
        assert (await client.get("/api/keys", headers={"X-API-Key": "tp_" + "x" * 48})).status_code == 401
        assert (await client.get("/api/users", headers=key(demo, "client"))).status_code == 403
        for _ in range(2):  # the second counts past the auth quota of 1
            await client.post("/api/auth", json={"email": "nobody@example.com", "password": "x", "action": "login"})
        after = await _scrape(client)

    assert _delta(before, after, "tabular_requests_total", path="/api/keys", status_code="200", method="GET") == 1
    assert _delta(before, after, "tabular_requests_total", path="/api/keys", status_code="401") == 1
    assert _delta(before, after, "tabular_request_duration_seconds_count", path="/api/users") == 1
    assert _delta(before, after, "tabular_authentications_total", credential="api_key", outcome="ok") == 2, (
        "admin and client"
    )
    assert _delta(before, after, "tabular_authentications_total", credential="api_key", outcome="invalid_api_key") == 1
    assert _delta(before, after, "tabular_policy_refusals_total", reason="role_forbidden") == 1
    assert _delta(before, after, "tabular_rate_limit_decisions_total", quota="auth", outcome="admitted") == 1
    assert _delta(before, after, "tabular_rate_limit_decisions_total", quota="auth", outcome="refused") == 1
    assert _delta(before, after, "tabular_argon2_seconds_count") == 1, "the first sign-in ran argon2 (once)"
    assert _delta(before, after, "tabular_sign_in_seconds_count", outcome="invalid_credentials") == 1
    assert _delta(before, after, "tabular_requests_total", path="/metrics") == 0, "the scrape is not a request"


async def test_metrics_answer_only_the_allowed_networks(database_url: str) -> None:
    async with raw_client(make_settings(database_url, metrics=True, metrics_allow=("10.0.0.0/8",))) as client:
        assert_problem(await client.get("/metrics"), 404, "not_found")


async def test_metrics_are_off_by_default(database_url: str) -> None:
    async with raw_client(make_settings(database_url)) as client:
        assert_problem(await client.get("/metrics"), 404)


async def test_the_limiter_counting_in_process_while_redis_is_down_is_counted(database_url: str) -> None:
    settings = make_settings(database_url, metrics=True, redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    async with raw_client(settings) as client:
        before = await _scrape(client)
        assert (await client.get("/api/health")).status_code == 200  # not limited: no decision
        assert (await client.get("/api/keys")).status_code == 401
        after = await _scrape(client)
    assert _delta(before, after, "tabular_rate_limit_fallbacks_total") == 1
