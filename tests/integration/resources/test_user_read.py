"""`GET /api/users`: an admin lists the organization's users with filters and pages, and reads one."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import (
    Client,
    key,
    ok,
    user,
    user_id,
)
from tests.support.resources import USER_FIELDS

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


@pytest.mark.usefixtures("other_tenant")
async def test_admins_list_the_organizations_users_with_filters(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    page = ok(await client.get("/api/users", headers=admin))
    assert (page["total"], page["limit"], page["offset"]) == (4, 50, 0)
    assert [item["email"] for item in page["items"]] == sorted(u.email for u in demo.users)
    for item, demo_user in zip(page["items"], sorted(demo.users, key=lambda u: u.email), strict=True):
        assert set(item) == USER_FIELDS
        assert (item["role"], item["active"], item["password_set"], item["mfa_enabled"]) == (
            demo_user.role,
            True,
            True,
            True,
        )
        assert sorted(item["workspace_ids"]) == sorted(demo_user.workspace_ids)

    members = ok(await client.get("/api/users", params={"role": "member"}, headers=admin))
    assert [item["email"] for item in members["items"]] == sorted(u.email for u in demo.users if u.role == "member")
    ok(await client.patch(f"/api/users/{members['items'][0]['id']}", json={"active": False}, headers=admin))
    inactive = ok(await client.get("/api/users", params={"active": "false"}, headers=admin))
    assert [item["id"] for item in inactive["items"]] == [members["items"][0]["id"]]
    active_members = ok(await client.get("/api/users", params={"active": "true", "role": "member"}, headers=admin))
    assert [item["id"] for item in active_members["items"]] == [members["items"][1]["id"]]

    second = ok(await client.get("/api/users", params={"limit": 2, "offset": 2}, headers=admin))
    assert (second["total"], [item["id"] for item in second["items"]]) == (4, [i["id"] for i in page["items"][2:]])


async def test_get_one_user(client: Client, demo: DemoData) -> None:
    client_user = user(demo, "client")
    client_id = await user_id(client, client_user)
    data = ok(await client.get(f"/api/users/{client_id}", headers=key(demo, "admin")))
    assert set(data) == USER_FIELDS
    assert (data["id"], data["email"], data["role"], data["workspace_ids"]) == (
        client_id,
        client_user.email,
        "client",
        client_user.workspace_ids,
    )
