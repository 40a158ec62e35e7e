"""`/api/workspaces/{id}/members`: add, list, remove and their audit trail; a change reaches the member's very
next request even with a 60-second identity cache (the worker that made it drops its cached identity)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest

from tabular.db.audit import AuditEventType
from tests.support.clients import (
    Client,
    api_key,
    app_client,
    assert_problem,
    key,
    ok,
    session_headers,
    user,
    user_id,
)
from tests.support.db import audit_trail
from tests.support.resources import (
    MEMBER_FIELDS,
    PAGE_FIELDS,
)

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_add_list_and_remove_members(
    client: Client, demo: DemoData, database_url: str, other_tenant: Tenant
) -> None:
    admin = key(demo, "admin")
    first = demo.workspaces[0]
    members_path = f"/api/workspaces/{first.id}/members"
    member2 = user(demo, "member", 1)
    member2_id = await user_id(client, member2)

    listed = ok(await client.get(members_path, headers=admin))
    assert set(listed) == PAGE_FIELDS
    emails = [item["email"] for item in listed["items"]]
    assert emails == sorted([user(demo, "admin").email, user(demo, "member", 0).email, user(demo, "client").email])
    assert all(set(item) == MEMBER_FIELDS for item in listed["items"])
    assert {item["role"] for item in listed["items"]} == {"admin", "member", "client"}

    added = ok(await client.post(members_path, json={"user_id": member2_id}, headers=admin), 201)
    assert set(added) == MEMBER_FIELDS
    assert (added["user_id"], added["email"], added["role"], added["active"]) == (
        member2_id,
        member2.email,
        "member",
        True,
    )
    assert_problem(await client.post(members_path, json={"user_id": member2_id}, headers=admin), 409, "already_member")
    page = ok(await client.get(members_path, params={"limit": 1, "offset": 3}, headers=admin))
    assert (page["total"], len(page["items"])) == (4, 1)
    assert ok(await client.get(f"/api/workspaces/{first.id}", headers=admin))["member_count"] == 4

    assert ok(await client.delete(f"{members_path}/{member2_id}", headers=admin), 204) is None
    assert_problem(await client.delete(f"{members_path}/{member2_id}", headers=admin), 404, "not_found")
    assert_problem(await client.delete(f"{members_path}/{uuid4()}", headers=admin), 404, "not_found")
    assert ok(await client.get(members_path, headers=admin))["total"] == 3

    for stranger in (other_tenant.user_id, uuid4()):  # another organization's user and nobody at all look the same
        assert_problem(await client.post(members_path, json={"user_id": str(stranger)}, headers=admin), 404)

    events = await audit_trail(database_url, AuditEventType.MEMBER_ADDED, AuditEventType.MEMBER_REMOVED)
    admin_id = UUID(await user_id(client, user(demo, "admin")))
    assert [(e.event, e.target_id, e.data, e.actor_user_id) for e in events] == [
        ("workspace.member_added", first.id, {"user_id": member2_id}, admin_id),
        ("workspace.member_removed", first.id, {"user_id": member2_id}, admin_id),
    ]


async def test_membership_changes_reach_the_members_next_request(demo: DemoData, database_url: str) -> None:
    """With a 60-second identity cache: the worker that made the change drops its cached identity."""
    first = demo.workspaces[0]
    member2 = user(demo, "member", 1)
    workspace_path = f"/api/workspaces/{first.id}"
    members_path = f"{workspace_path}/members"
    async with app_client(database_url, auth_cache_ttl=60) as client:
        admin = key(demo, "admin")
        member2_id = await user_id(client, member2)
        session = await session_headers(client, member2)
        surveys = {"workspace_id": first.id}
        for credential in (api_key(member2), session):
            assert_problem(await client.get(workspace_path, headers=credential), 403, "not_a_member")
            assert_problem(await client.get("/api/surveys", params=surveys, headers=credential), 403, "not_a_member")

        ok(await client.post(members_path, json={"user_id": member2_id}, headers=admin), 201)
        for credential in (api_key(member2), session):
            assert ok(await client.get(workspace_path, headers=credential))["id"] == first.id
            assert ok(await client.get("/api/surveys", params=surveys, headers=credential))
            listed = ok(await client.get("/api/workspaces", headers=credential))
            assert sorted(item["id"] for item in listed["items"]) == sorted(w.id for w in demo.workspaces)

        ok(await client.delete(f"{members_path}/{member2_id}", headers=admin), 204)
        for credential in (api_key(member2), session):
            assert_problem(await client.get("/api/surveys", params=surveys, headers=credential), 403, "not_a_member")
            assert_problem(await client.get(workspace_path, headers=credential), 403, "not_a_member")
            listed = ok(await client.get("/api/workspaces", headers=credential))
            assert [item["id"] for item in listed["items"]] == [demo.workspaces[1].id]
