"""`Idempotency-Key`: a creating request retried under the same key creates one object and gets the first answer.

Through the real app on both engines, with and without a real Redis server (answers are kept in the database
either way); concurrent duplicates sent so they really overlap (`at_once`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pytest
from redis import Redis
from sqlalchemy import func, select

from tabular.db import IdempotencyRecord, Workspace
from tabular.db.base import utcnow
from tests.support.clients import app_client, assert_problem, at_once, key, ok, session_headers, user
from tests.support.db import committed_session
from tests.support.settings import make_settings

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

PATH = "/api/workspaces"


def _body(name: str = "Retried") -> dict[str, Any]:
    return {"name": name}


async def _workspaces(database_url: str) -> int:
    async with committed_session(database_url) as session:
        return int(await session.scalar(select(func.count()).select_from(Workspace)) or 0)


async def test_a_retry_under_the_same_key_replays_the_first_answer_and_creates_nothing(
    client: Client, demo: DemoData, database_url: str
) -> None:
    headers = key(demo, "admin") | {"Idempotency-Key": "create-workspace-1"}
    before = await _workspaces(database_url)

    first = await client.post(PATH, json=_body(), headers=headers)
    again = await client.post(PATH, json=_body(), headers=headers)

    assert ok(first, 201)["id"] == ok(again, 201)["id"]
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert "ratelimit-remaining" in again.headers, "a replay is still a request the limiter counts"
    assert await _workspaces(database_url) == before + 1


async def test_the_same_key_with_another_body_is_refused(client: Client, demo: DemoData) -> None:
    headers = key(demo, "admin") | {"Idempotency-Key": "create-workspace-2"}
    ok(await client.post(PATH, json=_body("First"), headers=headers), 201)
    assert_problem(await client.post(PATH, json=_body("Second"), headers=headers), 422, "idempotency_key_reused")


async def test_an_answer_that_is_not_a_success_is_not_kept(client: Client, demo: DemoData) -> None:
    """A refused request may be fixed and sent again under its key."""
    headers = key(demo, "admin") | {"Idempotency-Key": "create-workspace-3"}
    assert_problem(await client.post(PATH, json={"name": ""}, headers=headers), 422, "validation_failed")
    ok(await client.post(PATH, json={"name": ""} | _body(), headers=headers), 201)


async def test_each_principal_has_its_own_keys(client: Client, demo: DemoData) -> None:
    """The member's request under the admin's key is not "another request under a used key" (a 422): it runs."""
    first = ok(await client.post(PATH, json=_body(), headers=key(demo, "admin") | {"Idempotency-Key": "k"}), 201)
    member = key(demo, "member") | {"Idempotency-Key": "k"}
    created = await client.post(
        f"/api/surveys?workspace_id={demo.workspaces[0].id}", json={"title": "T"}, headers=member
    )
    assert ok(created, 201)["id"] != first["id"]
    assert "idempotent-replayed" not in created.headers


@pytest.mark.parametrize("sent", ["", "has space", "x" * 256, "caf\u00e9"], ids=["empty", "space", "long", "non-ascii"])
async def test_a_malformed_key_is_a_422_naming_the_header(client: Client, demo: DemoData, sent: str) -> None:
    headers: dict[str, str | bytes] = {**key(demo, "admin"), "Idempotency-Key": sent.encode()}
    refused = await client.post(PATH, json=_body(), headers=headers)
    assert_problem(refused, 422, "validation_failed")
    assert refused.json()["errors"] == [
        {"message": "must be 1 to 255 visible ASCII characters, without spaces", "field": "Idempotency-Key",
         "source": "header"}
    ]  # fmt: skip


async def test_concurrent_duplicates_create_one_object(demo: DemoData, database_url: str) -> None:
    headers = key(demo, "admin") | {"Idempotency-Key": "create-workspace-at-once"}
    before = await _workspaces(database_url)

    answers = await at_once(make_settings(database_url), [("POST", PATH, headers, _body())] * 4)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses.count(201) >= 1, statuses
    assert set(statuses) <= {201, 409}, statuses
    assert len({answer.json()["id"] for answer in answers if answer.status_code == 201}) == 1
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency_key_in_use"
    assert await _workspaces(database_url) == before + 1


async def test_a_kept_answer_outlives_a_restart(demo: DemoData, database_url: str) -> None:
    headers = key(demo, "admin") | {"Idempotency-Key": "create-before-restart"}
    async with app_client(database_url) as before_restart:
        first = ok(await before_restart.post(PATH, json=_body(), headers=headers), 201)
    async with app_client(database_url) as after_restart:
        again = await after_restart.post(PATH, json=_body(), headers=headers)
    assert ok(again, 201) == first
    assert again.headers["idempotent-replayed"] == "true"


async def test_a_kept_answer_past_its_day_is_not_replayed(client: Client, demo: DemoData, database_url: str) -> None:
    """In the database a kept answer lasts `expires_at` (24 hours): after it, the same key creates anew."""
    headers = key(demo, "admin") | {"Idempotency-Key": "create-a-day-ago"}
    sent = utcnow()
    first = ok(await client.post(PATH, json=_body("A day ago"), headers=headers), 201)
    async with committed_session(database_url) as session:
        record = await session.scalar(select(IdempotencyRecord))
        assert record is not None
        assert dt.timedelta(hours=24) <= record.expires_at - sent <= dt.timedelta(hours=24, minutes=1)
        record.expires_at = utcnow() - dt.timedelta(seconds=1)

    again = await client.post(PATH, json=_body("A day ago, again"), headers=headers)

    assert ok(again, 201)["id"] != first["id"]
    assert "idempotent-replayed" not in again.headers


async def test_with_redis_configured_answers_are_still_kept_with_their_change(
    demo: DemoData, database_url: str, redis_url: str
) -> None:
    """Redis cannot join the database's transaction, so the answer is kept in the row the change commits with."""
    headers = key(demo, "admin") | {"Idempotency-Key": "create-with-redis"}
    async with app_client(database_url, redis_url=redis_url) as client:
        first = ok(await client.post(PATH, json=_body(), headers=headers), 201)
        again = await client.post(PATH, json=_body(), headers=headers)
    assert ok(again, 201) == first
    assert again.headers["idempotent-replayed"] == "true"
    with Redis.from_url(redis_url) as redis:
        assert not redis.keys("idempotency:*"), "nothing kept in Redis"
    async with committed_session(database_url) as session:
        [record] = (await session.scalars(select(IdempotencyRecord))).all()
    assert record.key == "create-with-redis"
    assert record.answer is not None
    assert first["id"].encode() not in record.answer, "sealed"


async def test_a_kept_answer_that_carries_a_secret_is_sealed(client: Client, demo: DemoData, database_url: str) -> None:
    """A new API key is in its 201 once; kept for replay, it must not be readable from the database alone."""
    headers = await session_headers(client, user(demo, "admin")) | {"Idempotency-Key": "new-key-once"}
    created = ok(await client.post("/api/keys", json={"name": "kept"}, headers=headers), 201)
    again = await client.post("/api/keys", json={"name": "kept"}, headers=headers)
    assert ok(again, 201)["key"] == created["key"], "the replay gives the same key, opened with the server's secret"
    async with committed_session(database_url) as session:
        [stored] = (await session.scalars(select(IdempotencyRecord.answer))).all()
    assert stored is not None
    assert created["key"].encode() not in stored
    assert b"tp_" not in stored
    assert created["id"].encode() not in stored, "nothing of the answer in clear"


async def test_the_document_offers_the_key_exactly_where_a_route_creates(client: Client) -> None:
    document = ok(await client.get("/schema/openapi.json"))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            creates = "201" in operation["responses"]
            assert ("Idempotency-Key" in names) == creates, (method, path)
            if creates:
                assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
                assert "idempotency_key_in_use" in operation["responses"]["409"]["description"]
                assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
