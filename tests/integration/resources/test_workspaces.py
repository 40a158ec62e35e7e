"""`/api/workspaces` end to end: listing by role, create / rename / delete, members, and their audit trail.

Runs through the real application on real SQLite and PostgreSQL databases seeded with the demo organization.
Membership changes are checked on the member's very next request with a 60-second identity cache, so the
cache of the worker that made the change is shown to be dropped. The helpers at the top are shared with the
users and audit tests of this folder.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, select

from tabular.app import create_app
from tabular.db import AuditEvent, Survey, Tier, User, Workspace, WorkspaceMembership
from tabular.db.audit import AuditEventType, record
from tabular.db.config import make_db_config
from tabular.services.actor import Actor
from tabular.services.organizations import OrganizationService
from tabular.vocabulary import Role
from tests.conftest import make_settings
from tests.integration.auth.helpers import bearer, login, user

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from httpx import Response
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.demo import DemoData, DemoUser

pytestmark = pytest.mark.anyio

Client = AsyncTestClient[Litestar]

WORKSPACE_FIELDS = {"id", "name", "member_count", "created_at", "updated_at"}
MEMBER_FIELDS = {"user_id", "email", "name", "role", "active", "added_at"}
PAGE_FIELDS = {"items", "total", "limit", "offset"}


# --- helpers shared by the resource tests of this folder -----------------------------------------------


def key(who: DemoUser) -> dict[str, str]:
    """Headers authenticating as the demo user's API key."""
    assert who.api_key is not None
    return {"X-API-Key": who.api_key}


def assert_problem(response: Response, status: int, code: str | None = None) -> None:
    """An RFC 9457 answer with this status (and `code`, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    if code is not None:
        assert response.json()["code"] == code, response.text


def assert_client_error(response: Response, case: object) -> None:
    """Some 4xx problem, never a 500."""
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), (case, response.text)


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@asynccontextmanager
async def database(database_url: str) -> AsyncIterator[AsyncSession]:
    """A committed transaction outside the application, as an operator or another worker would make."""
    config = make_db_config(make_settings(database_url))
    try:
        async with config.get_session() as session, session.begin():
            yield session
    finally:
        await config.get_engine().dispose()


@asynccontextmanager
async def app_client(database_url: str, **overrides: Any) -> AsyncIterator[Client]:
    """A client of an application with its own settings (and its own identity cache)."""
    async with AsyncTestClient(app=create_app(make_settings(database_url, **overrides))) as client:
        yield client


async def user_id(client: Client, who: DemoUser) -> str:
    """The demo user's id, as who-am-I reports it."""
    data = ok(await client.get("/api/auth", headers=key(who)))
    return str(data["data"]["user_id"])


async def session_headers(client: Client, who: DemoUser) -> dict[str, str]:
    """Bearer headers of a fresh session of the demo user; cookies dropped so only the header authenticates."""
    token = await login(client, who)
    client.cookies.clear()
    return bearer(token)


async def audit_events(database_url: str, *events: AuditEventType) -> list[AuditEvent]:
    """The recorded events of these types, in chain order."""
    async with database(database_url) as session:
        query = select(AuditEvent).where(AuditEvent.event.in_([event.value for event in events]))
        return list(await session.scalars(query.order_by(AuditEvent.seq)))


@dataclass(frozen=True)
class Tenant:
    """Another organization: an admin, a workspace the admin belongs to, and one audit event."""

    organization_id: UUID
    user_id: UUID
    workspace_id: UUID


async def other_tenant(database_url: str) -> Tenant:
    async with database(database_url) as session:
        organization = await OrganizationService(Actor(session)).get_or_create("Elsewhere Inc", Tier.PRO)
        other = User(organization_id=organization.id, email="boss@elsewhere.test", name="Other Boss", role=Role.ADMIN)
        workspace = Workspace(organization_id=organization.id, name="Customer Insights")
        session.add_all([other, workspace])
        await session.flush()
        session.add(WorkspaceMembership(workspace_id=workspace.id, user_id=other.id))
        await session.flush()
        await record(
            session,
            AuditEventType.WORKSPACE_CREATED,
            organization_id=organization.id,
            actor_user_id=other.id,
            target_type="workspace",
            target_id=workspace.id,
            data={"name": workspace.name},
        )
        return Tenant(organization.id, other.id, workspace.id)


def names(page: dict[str, Any]) -> list[str]:
    return [item["name"] for item in page["items"]]


# --- listing and reading --------------------------------------------------------------------------------


async def test_admins_list_every_workspace_members_and_clients_their_own(
    client: Client, demo: DemoData, database_url: str
) -> None:
    first, second = demo.workspaces
    admin, member1, member2 = user(demo, "admin"), user(demo, "member", 0), user(demo, "member", 1)
    client_user = user(demo, "client")
    await other_tenant(database_url)

    everything = ok(await client.get("/api/workspaces", headers=key(admin)))
    assert set(everything) == PAGE_FIELDS
    assert (everything["total"], everything["limit"], everything["offset"]) == (2, 50, 0)
    assert names(everything) == sorted([first.name, second.name])  # another organization's namesake is not listed
    for item in everything["items"]:
        assert set(item) == WORKSPACE_FIELDS
    counts = {item["id"]: item["member_count"] for item in everything["items"]}
    assert counts == {first.id: 3, second.id: 2}  # admin + member1 + client; admin + member2

    for who, expected in ((member1, [first]), (member2, [second]), (client_user, [first])):
        page = ok(await client.get("/api/workspaces", headers=key(who)))
        assert [item["id"] for item in page["items"]] == [w.id for w in expected], who.email
        assert page["total"] == 1


async def test_the_workspace_list_is_paginated(client: Client, demo: DemoData) -> None:
    admin = key(user(demo, "admin"))
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
    data = ok(await client.get(f"/api/workspaces/{first.id}", headers=key(user(demo, "member", 0))))
    assert set(data) == WORKSPACE_FIELDS
    assert (data["id"], data["name"], data["member_count"]) == (first.id, first.name, 3)


# --- create, rename, delete -----------------------------------------------------------------------------


async def test_create_rename_and_delete_a_workspace_are_audited(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = user(demo, "admin")
    created = ok(await client.post("/api/workspaces", json={"name": "  Field Studies "}, headers=key(admin)), 201)
    assert set(created) == WORKSPACE_FIELDS
    assert (created["name"], created["member_count"]) == ("Field Studies", 0)
    path = f"/api/workspaces/{created['id']}"
    assert ok(await client.get(path, headers=key(admin))) == created

    renamed = ok(await client.patch(path, json={"name": "Field Research"}, headers=key(admin)))
    assert (renamed["id"], renamed["name"]) == (created["id"], "Field Research")
    assert renamed["updated_at"] >= created["updated_at"]
    assert ok(await client.patch(path, json={"name": "Field Research"}, headers=key(admin)))["name"] == "Field Research"

    assert ok(await client.delete(path, headers=key(admin)), 204) is None
    assert_problem(await client.get(path, headers=key(admin)), 404, "not_found")
    assert_problem(await client.delete(path, headers=key(admin)), 404, "not_found")

    events = await audit_events(
        database_url,
        AuditEventType.WORKSPACE_CREATED,
        AuditEventType.WORKSPACE_RENAMED,
        AuditEventType.WORKSPACE_DELETED,
    )
    admin_id = UUID(await user_id(client, admin))
    assert [(e.event, e.data) for e in events] == [
        ("workspace.created", {"name": "Field Studies"}),
        ("workspace.renamed", {"from": "Field Studies", "to": "Field Research"}),  # the no-op rename is not
        ("workspace.deleted", {"name": "Field Research", "pinned_api_keys": 0}),
    ]
    for event in events:
        assert (event.actor_user_id, event.target_type, event.target_id) == (admin_id, "workspace", created["id"])
        assert str(event.organization_id) == demo.organization.id
        assert event.client_ip


async def test_a_duplicate_name_in_the_organization_is_409(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
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

    other = await other_tenant(database_url)  # another organization may use the same name
    assert other.workspace_id
    created = ok(await client.post("/api/workspaces", json={"name": "Elsewhere"}, headers=admin), 201)
    assert created["name"] == "Elsewhere"


async def test_only_an_empty_workspace_can_be_deleted(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
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
    async with database(database_url) as session:
        session.add(Survey(workspace_id=UUID(created["id"]), title="Inside", description=""))
    path = f"/api/workspaces/{created['id']}"
    assert_problem(await client.delete(path, headers=admin), 409, "workspace_not_empty")

    async with database(database_url) as session:
        await session.execute(delete(Survey).where(Survey.workspace_id == UUID(created["id"])))
    assert ok(await client.delete(path, headers=admin), 204) is None
    async with database(database_url) as session:  # its memberships went with it
        left = await session.scalars(
            select(WorkspaceMembership).where(WorkspaceMembership.workspace_id == UUID(created["id"]))
        )
        assert list(left) == []
    member2 = ok(await client.get("/api/auth", headers=key(user(demo, "member", 1))))["data"]
    assert member2["workspace_ids"] == [second.id]
    assert_problem(await client.get("/api/workspaces", headers=pinned_key), 401, "invalid_api_key")  # went with it
    [deleted] = await audit_events(database_url, AuditEventType.WORKSPACE_DELETED)
    assert deleted.data == {"name": "Scratch", "pinned_api_keys": 1}


# --- members --------------------------------------------------------------------------------------------


async def test_add_list_and_remove_members(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
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

    other = await other_tenant(database_url)
    for stranger in (other.user_id, uuid4()):  # another organization's user and nobody at all look the same
        assert_problem(await client.post(members_path, json={"user_id": str(stranger)}, headers=admin), 404)

    events = await audit_events(database_url, AuditEventType.MEMBER_ADDED, AuditEventType.MEMBER_REMOVED)
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
        admin = key(user(demo, "admin"))
        member2_id = await user_id(client, member2)
        session = await session_headers(client, member2)
        surveys = {"workspace_id": first.id}
        for credential in (key(member2), session):
            assert_problem(await client.get(workspace_path, headers=credential), 403, "not_a_member")
            assert_problem(await client.get("/api/surveys", params=surveys, headers=credential), 403, "not_a_member")

        ok(await client.post(members_path, json={"user_id": member2_id}, headers=admin), 201)
        for credential in (key(member2), session):
            assert ok(await client.get(workspace_path, headers=credential))["id"] == first.id
            assert ok(await client.get("/api/surveys", params=surveys, headers=credential))
            listed = ok(await client.get("/api/workspaces", headers=credential))
            assert sorted(item["id"] for item in listed["items"]) == sorted(w.id for w in demo.workspaces)

        ok(await client.delete(f"{members_path}/{member2_id}", headers=admin), 204)
        for credential in (key(member2), session):
            assert_problem(await client.get("/api/surveys", params=surveys, headers=credential), 403, "not_a_member")
            assert_problem(await client.get(workspace_path, headers=credential), 403, "not_a_member")
            listed = ok(await client.get("/api/workspaces", headers=credential))
            assert [item["id"] for item in listed["items"]] == [demo.workspaces[1].id]


# --- who may, and another organization ------------------------------------------------------------------


async def test_a_member_may_not_manage_workspaces(client: Client, demo: DemoData) -> None:
    member = key(user(demo, "member", 0))
    first = demo.workspaces[0]
    member1_id = await user_id(client, user(demo, "member", 0))
    assert_problem(await client.post("/api/workspaces", json={"name": "Mine"}, headers=member), 403, "role_forbidden")
    assert_problem(await client.patch(f"/api/workspaces/{first.id}", json={"name": "x"}, headers=member), 403)
    assert_problem(await client.delete(f"/api/workspaces/{first.id}", headers=member), 403)
    assert_problem(await client.get(f"/api/workspaces/{first.id}/members", headers=member), 403, "role_forbidden")
    assert_problem(
        await client.post(f"/api/workspaces/{first.id}/members", json={"user_id": member1_id}, headers=member), 403
    )
    assert_problem(await client.delete(f"/api/workspaces/{first.id}/members/{member1_id}", headers=member), 403)


async def test_another_organizations_workspace_is_404(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
    other = await other_tenant(database_url)
    admin_id = await user_id(client, user(demo, "admin"))
    answers = []
    for workspace_id in (other.workspace_id, uuid4()):
        path = f"/api/workspaces/{workspace_id}"
        answers += [
            await client.get(path, headers=admin),
            await client.patch(path, json={"name": "Mine now"}, headers=admin),
            await client.delete(path, headers=admin),
            await client.get(f"{path}/members", headers=admin),
            await client.post(f"{path}/members", json={"user_id": admin_id}, headers=admin),
            await client.delete(f"{path}/members/{other.user_id}", headers=admin),
        ]
    for answer in answers:
        assert_problem(answer, 404, "not_found")
    assert len({answer.content for answer in answers}) == 1  # nothing tells the two apart


# --- bad input ------------------------------------------------------------------------------------------

BAD_WORKSPACE_BODIES: list[Any] = [
    {},
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 201},
    {"name": "tab\tinside"},
    {"name": "nul\u0000inside"},
    {"name": 42},
    {"name": None},
    {"name": "ok", "organization_id": str(uuid4())},
    ["name"],
    "name",
]


async def test_bad_input_is_a_4xx_problem(client: Client, demo: DemoData) -> None:
    admin = key(user(demo, "admin"))
    first = demo.workspaces[0]
    for body in BAD_WORKSPACE_BODIES:
        assert_client_error(await client.post("/api/workspaces", json=body, headers=admin), body)
        assert_client_error(await client.patch(f"/api/workspaces/{first.id}", json=body, headers=admin), body)
    for body in ({}, {"user_id": "not-a-uuid"}, {"user_id": None}, {"user_id": str(uuid4()), "role": "admin"}):
        assert_client_error(await client.post(f"/api/workspaces/{first.id}/members", json=body, headers=admin), body)
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"limit": "ten"}):
        assert_problem(await client.get("/api/workspaces", params=params, headers=admin), 422, "validation_failed")
        assert_problem(await client.get(f"/api/workspaces/{first.id}/members", params=params, headers=admin), 422)
    for path in ("/api/workspaces/not-a-uuid", f"/api/workspaces/{first.id}/members/not-a-uuid"):
        assert_client_error(await client.get(path, headers=admin), path)
        assert_client_error(await client.delete(path, headers=admin), path)
    text = await client.post(
        "/api/workspaces", content=b'{"name": "x"}', headers=admin | {"Content-Type": "text/plain"}
    )
    assert_problem(text, 415)
    truncated = await client.post(
        "/api/workspaces", content=b'{"name": ', headers=admin | {"Content-Type": "application/json"}
    )
    assert_problem(truncated, 400)
    assert ok(await client.get("/api/workspaces", headers=admin))["total"] == 2  # nothing was created
