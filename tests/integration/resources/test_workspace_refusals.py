"""Who may not manage workspaces, another organization's workspace (a 404 like a missing one), and bad input."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from tests.support.clients import (
    Client,
    assert_client_error,
    assert_problem,
    key,
    ok,
    user,
    user_id,
    without_request_id,
)

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_a_member_may_not_manage_workspaces(client: Client, demo: DemoData) -> None:
    member = key(demo, "member", 0)
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


async def test_another_organizations_workspace_is_404(client: Client, demo: DemoData, other_tenant: Tenant) -> None:
    admin = key(demo, "admin")
    admin_id = await user_id(client, user(demo, "admin"))
    answers = []
    for workspace_id in (other_tenant.workspace_id, uuid4()):
        path = f"/api/workspaces/{workspace_id}"
        answers += [
            await client.get(path, headers=admin),
            await client.patch(path, json={"name": "Mine now"}, headers=admin),
            await client.delete(path, headers=admin),
            await client.get(f"{path}/members", headers=admin),
            await client.post(f"{path}/members", json={"user_id": admin_id}, headers=admin),
            await client.delete(f"{path}/members/{other_tenant.user_id}", headers=admin),
        ]
    for answer in answers:
        assert_problem(answer, 404, "not_found")
    assert len({without_request_id(answer) for answer in answers}) == 1  # nothing tells the two apart


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
    admin = key(demo, "admin")
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
