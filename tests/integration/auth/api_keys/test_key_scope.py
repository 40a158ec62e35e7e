"""A key's down-scope (read-only, pinned to a workspace its creator can reach) and its creator's live role,
memberships and activation. Where the API cannot make a state (a demoted creator) the row is changed directly."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID, uuid4

import pytest
from sqlalchemy import delete, update

from tabular.db import User, WorkspaceMembership
from tabular.vocabulary import Role
from tests.support.api_keys import (
    create_key,
    list_keys,
    whoami,
    x_api_key,
)
from tests.support.clients import Client, assert_problem, bearer, session_headers, user
from tests.support.db import execute

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_read_only_and_pinned_down_scope_show_in_whoami(client: Client, demo: DemoData) -> None:
    first, second = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "admin"))

    pinned = await create_key(client, headers, read_only=True, workspace_id=second)
    assert (pinned["read_only"], pinned["workspace_id"]) == (True, second)
    me = await whoami(client, x_api_key(pinned["key"]))
    assert (me["read_only"], me["pinned_workspace_id"], me["workspace_ids"]) == (True, second, [second])

    read_only = await create_key(client, headers, read_only=True)
    me = await whoami(client, x_api_key(read_only["key"]))
    assert (me["read_only"], me["pinned_workspace_id"]) == (True, None)
    assert sorted(me["workspace_ids"]) == sorted([first, second])

    member_headers = await session_headers(client, user(demo, "member", 0))
    member_pinned = await create_key(client, member_headers, workspace_id=first)
    me = await whoami(client, bearer(member_pinned["key"]))
    assert (me["read_only"], me["pinned_workspace_id"], me["workspace_ids"]) == (False, first, [first])


async def test_a_key_is_pinned_only_where_its_creator_can_go(
    client: Client, demo: DemoData, other_tenant: Tenant
) -> None:
    foreign_id = str(other_tenant.workspace_id)
    first, second = (w.id for w in demo.workspaces)
    headers = await session_headers(client, user(demo, "member", 0))  # a member of the first workspace only

    for workspace_id in (foreign_id, str(uuid4())):
        response = await client.post("/api/keys", json={"name": "x", "workspace_id": workspace_id}, headers=headers)
        assert_problem(response, 422, "validation_failed")
        assert response.json()["errors"] == [
            {"message": "no such workspace in your organization", "field": "workspace_id", "source": "body"}
        ]
    response = await client.post("/api/keys", json={"name": "x", "workspace_id": second}, headers=headers)
    assert_problem(response, 403, "workspace_forbidden")
    assert [k["name"] for k in await list_keys(client, headers)] == ["demo"]
    assert (await create_key(client, headers, workspace_id=first))["workspace_id"] == first


async def test_the_key_follows_its_creator_role_memberships_and_activation(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member = user(demo, "member", 0)
    assert member.api_key is not None
    headers = x_api_key(member.api_key)
    of_member = User.email == member.email
    assert (await whoami(client, headers))["role"] == "member"

    await execute(database_url, update(User).where(of_member).values(role=Role.CLIENT))
    assert (await whoami(client, headers))["role"] == "client"

    user_id = UUID((await whoami(client, headers))["user_id"])
    await execute(database_url, delete(WorkspaceMembership).where(WorkspaceMembership.user_id == user_id))
    assert (await whoami(client, headers))["workspace_ids"] == []

    await execute(database_url, update(User).where(of_member).values(is_active=False))
    assert_problem(await client.get("/api/auth", headers=headers), 401, "account_disabled")
    assert_problem(await client.get("/api/keys", headers=bearer(member.api_key)), 401, "account_disabled")

    await execute(database_url, update(User).where(of_member).values(is_active=True))
    assert (await whoami(client, headers))["role"] == "client"
