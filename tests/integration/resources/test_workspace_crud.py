"""`/api/workspaces`: what each role lists, pages, reading one; create, rename and delete (only an empty one),
and their audit trail, on the demo organization."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import pytest
from sqlalchemy import delete, select

from tabular.db import Survey, WorkspaceMembership
from tabular.db.audit import AuditEventType
from tests.support.clients import (
    Client,
    api_key,
    assert_problem,
    key,
    ok,
    session_headers,
    user,
    user_id,
)
from tests.support.db import audit_trail, committed_session
from tests.support.resources import (
    PAGE_FIELDS,
    WORKSPACE_FIELDS,
    names,
)
from tests.support.webhooks import register

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


@pytest.mark.usefixtures("other_tenant")
async def test_admins_list_every_workspace_members_and_clients_their_own(client: Client, demo: DemoData) -> None:
    first, second = demo.workspaces
    admin, member1, member2 = user(demo, "admin"), user(demo, "member", 0), user(demo, "member", 1)
    client_user = user(demo, "client")

    everything = ok(await client.get("/api/workspaces", headers=api_key(admin)))
    assert set(everything) == PAGE_FIELDS
    assert (everything["total"], everything["limit"], everything["offset"]) == (2, 50, 0)
    assert names(everything) == sorted([first.name, second.name])  # another organization's namesake is not listed
    for item in everything["items"]:
        assert set(item) == WORKSPACE_FIELDS
    counts = {item["id"]: item["member_count"] for item in everything["items"]}
    assert counts == {first.id: 3, second.id: 2}  # admin + member1 + client; admin + member2

    for who, expected in ((member1, [first]), (member2, [second]), (client_user, [first])):
        page = ok(await client.get("/api/workspaces", headers=api_key(who)))
        assert [item["id"] for item in page["items"]] == [w.id for w in expected], who.email
        assert page["total"] == 1


async def test_the_workspace_list_is_paginated(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    for name in ("A first", "Z last"):
        ok(await client.post("/api/workspaces", json={"name": name}, headers=admin), 201)
    all_names = names(ok(await client.get("/api/workspaces", headers=admin)))
    assert len(all_names) == 4

    page = ok(await client.get("/api/workspaces", params={"limit": 2, "offset": 1}, headers=admin))
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    assert names(page) == all_names[1:3]
    beyond = ok(await client.get("/api/workspaces", params={"limit": 200, "offset": 10}, headers=admin))
    assert (beyond["items"], beyond["total"]) == ([], 4)


async def test_get_a_workspace_with_its_member_count(client: Client, demo: DemoData) -> None:
    first = demo.workspaces[0]
    data = ok(await client.get(f"/api/workspaces/{first.id}", headers=key(demo, "member", 0)))
    assert set(data) == WORKSPACE_FIELDS
    assert (data["id"], data["name"], data["member_count"]) == (first.id, first.name, 3)


async def test_create_rename_and_delete_a_workspace_are_audited(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = user(demo, "admin")
    created = ok(await client.post("/api/workspaces", json={"name": "  Field Studies "}, headers=api_key(admin)), 201)
    assert set(created) == WORKSPACE_FIELDS
    assert (created["name"], created["member_count"]) == ("Field Studies", 0)
    path = f"/api/workspaces/{created['id']}"
    assert ok(await client.get(path, headers=api_key(admin))) == created

    renamed = ok(await client.patch(path, json={"name": "Field Research"}, headers=api_key(admin)))
    assert (renamed["id"], renamed["name"]) == (created["id"], "Field Research")
    assert renamed["updated_at"] >= created["updated_at"]
    assert (
        ok(await client.patch(path, json={"name": "Field Research"}, headers=api_key(admin)))["name"]
        == "Field Research"
    )

    assert ok(await client.delete(path, headers=api_key(admin)), 204) is None
    assert_problem(await client.get(path, headers=api_key(admin)), 404, "not_found")
    assert_problem(await client.delete(path, headers=api_key(admin)), 404, "not_found")

    events = await audit_trail(
        database_url,
        AuditEventType.WORKSPACE_CREATED,
        AuditEventType.WORKSPACE_RENAMED,
        AuditEventType.WORKSPACE_DELETED,
        operators=False,  # not the demo's own workspaces
    )
    admin_id = UUID(await user_id(client, admin))
    assert [(e.event, e.data) for e in events] == [
        ("workspace.created", {"name": "Field Studies"}),
        ("workspace.renamed", {"from": "Field Studies", "to": "Field Research"}),  # the no-op rename is not
        ("workspace.deleted", {"name": "Field Research", "pinned_api_keys": 0, "webhook_endpoints": 0}),
    ]
    for event in events:
        assert (event.actor_user_id, event.target_type, event.target_id) == (admin_id, "workspace", created["id"])
        assert str(event.organization_id) == demo.organization.id
        assert event.client_ip


@pytest.mark.usefixtures("other_tenant")  # holds a workspace named like the demo's first: names are per organization
async def test_a_duplicate_name_in_the_organization_is_409(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    first, second = demo.workspaces
    assert_problem(
        await client.post("/api/workspaces", json={"name": first.name}, headers=admin), 409, "workspace_name_taken"
    )
    assert_problem(
        await client.post("/api/workspaces", json={"name": f" {first.name} "}, headers=admin),
        409,
        "workspace_name_taken",
    )
    assert_problem(
        await client.patch(f"/api/workspaces/{second.id}", json={"name": first.name}, headers=admin),
        409,
        "workspace_name_taken",
    )
    assert ok(await client.get(f"/api/workspaces/{second.id}", headers=admin))["name"] == second.name

    created = ok(await client.post("/api/workspaces", json={"name": "Elsewhere"}, headers=admin), 201)
    assert created["name"] == "Elsewhere"


async def test_only_an_empty_workspace_can_be_deleted(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(demo, "admin")
    first, second = demo.workspaces  # surveys and a dashboard; surveys and a report
    for workspace in (first, second):
        path = f"/api/workspaces/{workspace.id}"
        assert_problem(await client.delete(path, headers=admin), 409, "workspace_not_empty")
        assert ok(await client.get(path, headers=admin))["id"] == workspace.id

    created = ok(await client.post("/api/workspaces", json={"name": "Scratch"}, headers=admin), 201)
    member2_id = await user_id(client, user(demo, "member", 1))
    ok(await client.post(f"/api/workspaces/{created['id']}/members", json={"user_id": member2_id}, headers=admin), 201)
    member2_session = await session_headers(client, user(demo, "member", 1))
    pinned = {"name": "pinned", "workspace_id": created["id"]}
    pinned_key = {"X-API-Key": ok(await client.post("/api/keys", json=pinned, headers=member2_session), 201)["key"]}
    assert ok(await client.get(f"/api/workspaces/{created['id']}", headers=pinned_key))["member_count"] == 1
    endpoint = await register(client, admin, created["id"], "https://93.184.216.34/hook")
    async with committed_session(database_url) as session:
        session.add(Survey(workspace_id=UUID(created["id"]), title="Inside", description=""))
    path = f"/api/workspaces/{created['id']}"
    assert_problem(await client.delete(path, headers=admin), 409, "workspace_not_empty")

    async with committed_session(database_url) as session:
        await session.execute(delete(Survey).where(Survey.workspace_id == UUID(created["id"])))
    assert ok(await client.delete(path, headers=admin), 204) is None
    async with committed_session(database_url) as session:  # its memberships went with it
        left = await session.scalars(
            select(WorkspaceMembership).where(WorkspaceMembership.workspace_id == UUID(created["id"]))
        )
        assert list(left) == []
    member2 = ok(await client.get("/api/auth", headers=key(demo, "member", 1)))["data"]
    assert member2["workspace_ids"] == [second.id]
    assert_problem(await client.get("/api/workspaces", headers=pinned_key), 401, "invalid_api_key")  # went with it
    [deleted] = await audit_trail(database_url, AuditEventType.WORKSPACE_DELETED)
    assert deleted.data == {"name": "Scratch", "pinned_api_keys": 1, "webhook_endpoints": 1}
    assert_problem(await client.get(f"/api/webhooks/{endpoint['id']}", headers=admin), 404, "not_found")
