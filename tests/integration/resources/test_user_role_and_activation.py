"""`PATCH /api/users/{id}`: renames, role changes and (de)activation are audited, the last active admin stays,
and a change reaches the user's next request (session or key) even with a 60-second identity cache."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tabular.db.audit import AuditEventType
from tests.support.clients import (
    Client,
    api_key,
    app_client,
    assert_problem,
    bearer_of,
    key,
    ok,
    password_sign_in,
    session_headers,
    user,
    user_id,
)
from tests.support.db import audit_trail
from tests.support.resources import PASSWORD, user_body

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_rename_and_change_role_are_audited(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(demo, "admin")
    member_id = await user_id(client, user(demo, "member", 0))
    path = f"/api/users/{member_id}"
    before = ok(await client.get(path, headers=admin))

    renamed = ok(await client.patch(path, json={"name": " Mia M. "}, headers=admin))
    assert (renamed["name"], renamed["role"], renamed["active"]) == ("Mia M.", "member", True)
    assert ok(await client.patch(path, json={}, headers=admin)) == renamed
    changed = ok(await client.patch(path, json={"role": "client"}, headers=admin))
    assert (changed["role"], changed["workspace_ids"]) == ("client", before["workspace_ids"])
    ok(await client.patch(path, json={"role": "client"}, headers=admin))  # no change, no event
    both = ok(await client.patch(path, json={"role": "admin", "active": False}, headers=admin))
    assert (both["role"], both["active"]) == ("admin", False)
    ok(await client.patch(path, json={"active": True}, headers=admin))

    events = await audit_trail(
        database_url,
        AuditEventType.USER_ROLE_CHANGED,
        AuditEventType.USER_DEACTIVATED,
        AuditEventType.USER_REACTIVATED,
    )
    assert [(e.event, e.data) for e in events] == [
        ("user.role_changed", {"from": "member", "to": "client"}),
        ("user.role_changed", {"from": "client", "to": "admin"}),
        ("user.deactivated", {}),
        ("user.reactivated", {}),
    ]
    assert {(e.target_type, e.target_id) for e in events} == {("user", member_id)}


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    admin_path = f"/api/users/{await user_id(client, user(demo, 'admin'))}"
    for change in ({"role": "member"}, {"role": "client"}, {"active": False}, {"role": "member", "active": False}):
        assert_problem(await client.patch(admin_path, json=change, headers=admin), 409, "last_admin")
    assert ok(await client.patch(admin_path, json={"role": "admin", "active": True, "name": "Ada"}, headers=admin))

    # A deactivated admin does not count as another admin.
    second = ok(await client.post("/api/users", json=user_body(role="admin", password=PASSWORD), headers=admin), 201)
    second_path = f"/api/users/{second['id']}"
    ok(await client.patch(second_path, json={"active": False}, headers=admin))
    assert_problem(await client.patch(admin_path, json={"role": "member"}, headers=admin), 409, "last_admin")
    ok(await client.patch(second_path, json={"role": "member"}, headers=admin))  # demoting an inactive admin is fine

    # With another active admin, the first may step down; then the second is the last one.
    ok(await client.patch(second_path, json={"role": "admin", "active": True}, headers=admin))
    assert ok(await client.patch(admin_path, json={"role": "member"}, headers=admin))["role"] == "member"
    second_session = bearer_of(await password_sign_in(client, second["email"], PASSWORD))
    assert_problem(await client.patch(second_path, json={"active": False}, headers=second_session), 409, "last_admin")
    assert_problem(await client.get("/api/users", headers=admin), 403, "role_forbidden")  # the key acts as a member now


async def test_role_changes_and_deactivation_reach_sessions_and_keys_on_the_next_request(
    demo: DemoData, database_url: str
) -> None:
    """With a 60-second identity cache, so the change must drop the cached identity of this worker."""
    member = user(demo, "member", 0)
    first = demo.workspaces[0]
    async with app_client(database_url, auth_cache_ttl=60) as client:
        admin = key(demo, "admin")
        path = f"/api/users/{await user_id(client, member)}"
        session = await session_headers(client, member)
        for credential in (session, api_key(member)):
            assert ok(await client.get("/api/auth", headers=credential))["data"]["role"] == "member"
            assert (await client.get("/api/surveys", params={"workspace_id": first.id}, headers=credential)).is_success

        ok(await client.patch(path, json={"role": "client"}, headers=admin))
        assert_problem(await client.get("/api/auth", headers=session), 401, "session_revoked")
        assert ok(await client.get("/api/auth", headers=api_key(member)))["data"]["role"] == "client"
        surveys = await client.get("/api/surveys", params={"workspace_id": first.id}, headers=api_key(member))
        assert_problem(surveys, 403, "role_forbidden")

        ok(await client.patch(path, json={"active": False}, headers=admin))
        assert_problem(await client.get("/api/auth", headers=api_key(member)), 401, "account_disabled")
        assert_problem(await client.get("/api/auth", headers=session), 401)

        ok(await client.patch(path, json={"active": True, "role": "member"}, headers=admin))
        assert ok(await client.get("/api/auth", headers=api_key(member)))["data"]["role"] == "member"
        assert_problem(await client.get("/api/auth", headers=session), 401, "session_revoked")  # sessions stay ended
