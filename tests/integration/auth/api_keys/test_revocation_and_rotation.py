"""Revocation is immediate even with a warm identity cache; rotation gives a successor and a grace period that
never outlives the old expiry; another user's key is out of reach."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest
from sqlalchemy import update

from tabular.db import ApiKey
from tests.support.api_keys import (
    CREATED_FIELDS,
    GRACE,
    KEY_SHAPE,
    create_key,
    expire_now,
    iso,
    list_keys,
    moment,
    rotate,
    whoami,
    x_api_key,
)
from tests.support.clients import Client, app_client, assert_problem, bearer, session_headers, user
from tests.support.db import execute

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_revocation_is_immediate_even_with_a_warm_cache(demo: DemoData, database_url: str) -> None:
    admin_key = user(demo, "admin").api_key
    assert admin_key is not None
    async with app_client(database_url, auth_cache_ttl=60) as client:
        headers = await session_headers(client, user(demo, "member", 0))
        created = await create_key(client, headers)
        key = x_api_key(created["key"])
        assert (await whoami(client, key))["read_only"] is False

        # The cache really is warm: a change made outside this worker is not seen yet.
        statement = update(ApiKey).where(ApiKey.id == UUID(created["id"])).values(read_only=True)
        await execute(database_url, statement)
        assert (await whoami(client, key))["read_only"] is False

        assert (await client.delete(f"/api/keys/{created['id']}", headers=headers)).status_code == 204
        assert_problem(await client.get("/api/auth", headers=key), 401, "api_key_revoked")
        assert_problem(await client.get("/api/keys", headers=bearer(created["key"])), 401, "api_key_revoked")

        listed = {k["id"]: k for k in await list_keys(client, headers)}[created["id"]]
        assert listed["status"] == "revoked"
        assert listed["revoked_at"] is not None
        assert (await client.delete(f"/api/keys/{created['id']}", headers=headers)).status_code == 204
        assert {k["id"]: k for k in await list_keys(client, headers)}[created["id"]] == listed

        own = x_api_key(admin_key)  # a key may revoke itself, with the same immediate effect
        own_id = (await whoami(client, own))["key_id"]
        assert (await client.delete(f"/api/keys/{own_id}", headers=own)).status_code == 204
        assert_problem(await client.get("/api/auth", headers=own), 401, "api_key_revoked")


async def test_another_users_key_is_not_listed_revoked_or_rotated(client: Client, demo: DemoData) -> None:
    admin, member = user(demo, "admin"), user(demo, "member", 0)
    assert admin.api_key is not None
    assert member.api_key is not None
    admin_key_id = (await whoami(client, x_api_key(admin.api_key)))["key_id"]
    member_key = x_api_key(member.api_key)
    assert [k["id"] for k in await list_keys(client, member_key)] == [(await whoami(client, member_key))["key_id"]]
    session = await session_headers(client, member)

    for key_id in (admin_key_id, str(uuid4())):
        for headers in (session, member_key):
            assert_problem(await client.delete(f"/api/keys/{key_id}", headers=headers), 404, "not_found")
        assert_problem(await rotate(client, session, key_id), 404, "not_found")
    assert (await whoami(client, x_api_key(admin.api_key)))["key_id"] == admin_key_id
    assert [k["status"] for k in await list_keys(client, x_api_key(admin.api_key))] == ["active"]


async def test_rotation_gives_a_successor_and_a_grace_period(client: Client, demo: DemoData, database_url: str) -> None:
    first, _ = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "member", 0))
    old = await create_key(client, headers, name="deploy", read_only=True, workspace_id=first)

    before = dt.datetime.now(dt.UTC)
    response = await rotate(client, headers, old["id"])
    after = dt.datetime.now(dt.UTC)
    assert response.status_code == 201, response.text
    new = response.json()
    assert set(new) == CREATED_FIELDS
    assert KEY_SHAPE.fullmatch(new["key"])
    assert new["key"] != old["key"]
    assert new["id"] != old["id"]
    assert new["replaces"] == old["id"]
    assert (new["name"], new["read_only"], new["workspace_id"]) == ("deploy", True, first)

    assert (await whoami(client, x_api_key(new["key"])))["key_id"] == new["id"]
    assert (await whoami(client, x_api_key(old["key"])))["key_id"] == old["id"]  # still inside the grace period
    listed = {k["id"]: k for k in await list_keys(client, headers)}
    old_expiry = moment(listed[old["id"]]["expires_at"])
    assert old_expiry is not None
    assert before + GRACE <= old_expiry <= after + GRACE
    assert listed[old["id"]]["status"] == "active"

    await expire_now(database_url, old["id"])
    assert_problem(await client.get("/api/auth", headers=x_api_key(old["key"])), 401, "api_key_expired")
    assert (await whoami(client, x_api_key(new["key"])))["key_id"] == new["id"]
    assert_problem(await rotate(client, headers, old["id"]), 409, "api_key_inactive")

    assert (await client.delete(f"/api/keys/{new['id']}", headers=headers)).status_code == 204
    assert_problem(await rotate(client, headers, new["id"]), 409, "api_key_inactive")
    assert len(await list_keys(client, headers)) == 3


@pytest.mark.parametrize("lifetime", [dt.timedelta(hours=1), dt.timedelta(days=10)], ids=["1h", "10d"])
async def test_rotation_keeps_the_expiry(client: Client, demo: DemoData, lifetime: dt.timedelta) -> None:
    """The successor never outlives the key it replaces; the old key stops at the earlier of the two ends."""
    headers = await session_headers(client, user(demo, "admin"))
    expiry = dt.datetime.now(dt.UTC).replace(microsecond=0) + lifetime
    old = await create_key(client, headers, expires_at=iso(expiry))
    assert moment(old["expires_at"]) == expiry

    before = dt.datetime.now(dt.UTC)
    new = (await rotate(client, headers, old["id"])).json()
    after = dt.datetime.now(dt.UTC)
    assert moment(new["expires_at"]) == expiry
    old_expiry = moment({k["id"]: k for k in await list_keys(client, headers)}[old["id"]]["expires_at"])
    assert old_expiry is not None
    assert min(expiry, before + GRACE) <= old_expiry <= min(expiry, after + GRACE)
