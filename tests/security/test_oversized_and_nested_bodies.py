"""Attack: exhaust memory with a large body, or crash the decoder with a deeply nested one.

Where anyone can send a body (`/api/auth…`, `/api/public/…`, set-password) it may have 64 KiB; elsewhere
1 MiB unless `TABULAR_MAX_BODY_SIZE` says otherwise; beyond is a 413 problem, read no further. A body
nested deeper than the decoder follows is a 400 problem, never a 500 with a traceback.
"""

from __future__ import annotations

import json
import tracemalloc
from typing import TYPE_CHECKING

import pytest

from tests.support.clients import app_client, assert_problem, key

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

HEADERS = {"Content-Type": "application/json"}


def _answers(size: int) -> bytes:
    """`{"answers": [{}, {}, …]}` of about `size` bytes: the audit's memory amplifier."""
    return b'{"answers":[' + b",".join([b"{}"] * (size // 3)) + b"]}"


async def test_anyone_may_send_only_a_small_body(client: Client, demo: DemoData) -> None:
    survey = demo.surveys[0].id
    for path in (f"/api/public/surveys/{survey}/responses", "/api/auth", "/api/users/set-password"):
        refused = await client.post(path, content=_answers(100_000), headers=HEADERS)
        assert_problem(refused, 413, "payload_too_large")
    small = await client.post(f"/api/public/surveys/{survey}/responses", content=_answers(60_000), headers=HEADERS)
    assert small.status_code == 422, "under the limit: read, and refused for what it says"


async def test_a_body_past_the_settable_limit_is_a_413(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(demo, "admin") | HEADERS
    path = f"/api/dashboards?workspace_id={demo.workspaces[0].id}"
    widgets = {"blob": "x" * 1_100_000}
    assert_problem(await client.post(path, content=json.dumps({"name": "Big", "widgets": widgets}), headers=admin), 413)
    async with app_client(database_url, max_body_size=4096) as small:
        body = json.dumps({"name": "Small enough?", "widgets": {"blob": "x" * 5000}})
        assert_problem(await small.post(path, content=body, headers=admin), 413, "payload_too_large")


async def test_a_deeply_nested_body_is_a_400_not_a_500(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin") | HEADERS
    nested = b'{"name":"Deep","widgets":{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    answer = await client.post(f"/api/dashboards?workspace_id={demo.workspaces[0].id}", content=nested, headers=admin)
    assert_problem(answer, 400, "malformed_request")
    assert answer.json()["detail"] == "The body is nested too deeply."


@pytest.mark.parametrize(
    ("widgets", "problem"),
    [
        ({"a": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}, "must not nest deeper than 16 levels"),
        ({"cells": list(range(10_000))}, "must not hold more than 10000 values"),
    ],
    ids=["too-deep", "too-many-values"],
)
async def test_free_form_json_is_bounded_in_depth_and_size(
    client: Client, demo: DemoData, widgets: dict[str, object], problem: str
) -> None:
    """Widgets and report configs are stored and served back: bounded, so no one stores a decoder's nightmare."""
    admin = key(demo, "admin")
    path = f"/api/dashboards?workspace_id={demo.workspaces[0].id}"
    refused = await client.post(path, json={"name": "Nested", "widgets": widgets}, headers=admin)
    assert_problem(refused, 422, "validation_failed")
    assert problem in refused.text
    fine = await client.post(path, json={"name": "Fine", "widgets": {"a": [[1, 2], {"b": "c"}]}}, headers=admin)
    assert fine.status_code == 201, fine.text


async def test_an_amplifying_body_is_refused_before_it_becomes_python_objects(client: Client, demo: DemoData) -> None:
    """The audit's 9.9 MB `{"answers": [{}, {}, …]}` cost ~250 MB because every `{}` became a dict first.

    Decoded straight into the typed Struct, the first `{}` that lacks a question id ends the decoding: what the
    request allocates stays near the body's own size (generic decoding allocated some 25 times it).
    """
    path = f"/api/public/surveys/{demo.surveys[0].id}/responses"
    body = _answers(60_000)
    await client.post(path, content=_answers(300), headers=HEADERS)  # warm: first-request set-up is not the body's
    tracemalloc.start()
    try:
        refused = await client.post(path, content=body, headers=HEADERS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * len(body), f"handling a {len(body):,}-byte body allocated {peak:,} bytes at its peak"
    assert_problem(refused, 422, "validation_failed")
    assert refused.json()["errors"][0]["field"] == "answers[0]", "the first `{}` ended the decoding"


async def test_a_body_is_strict_json_so_a_quoted_number_is_not_a_number(client: Client, demo: DemoData) -> None:
    """One decode into the type, strict as the OpenAPI document: `"5"` where an integer is due is a 422."""
    path = f"/api/public/surveys/{demo.surveys[0].id}/responses"
    answer = {"question_id": "00000000-0000-4000-8000-000000000000", "rating": "5"}
    refused = await client.post(path, json={"answers": [answer]})
    assert_problem(refused, 422, "validation_failed")
    assert refused.json()["errors"][0]["field"] == "answers[0].rating"
