"""`/api/users` end to end: listing, creating (with a password or a one-time set-password token), reading,
renaming, role changes and (de)activation, the last-admin rule, and their effect on sessions and keys.

Role changes and deactivations are checked on the user's very next request with a 60-second identity cache,
for a session token and an API key alike.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import pytest
from sqlalchemy import select

from tabular.db import AuditEvent
from tabular.db.audit import AuditEventType
from tests.conftest import TEST_SECRET
from tests.integration.auth.helpers import user
from tests.integration.resources.test_workspaces import (
    Client,
    app_client,
    assert_client_error,
    assert_problem,
    audit_events,
    database,
    key,
    ok,
    other_tenant,
    session_headers,
    user_id,
)

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio

USER_FIELDS = {
    "id",
    "email",
    "name",
    "role",
    "active",
    "password_set",
    "mfa_enabled",
    "workspace_ids",
    "created_at",
    "updated_at",
}
CREATED_FIELDS = USER_FIELDS | {"set_password_token", "set_password_expires_at"}
PASSWORD = "a long enough passphrase"


def new_user(**fields: Any) -> dict[str, Any]:
    return {"email": "new.person@demo.tabular.test", "name": "New Person", "role": "member"} | fields


async def sign_in(client: Client, email: str, password: str) -> Any:
    """A password-only sign-in (the users made here have no MFA)."""
    return await client.post("/api/auth", json={"email": email, "password": password, "action": "login"})


def bearer_of(response: Any) -> dict[str, str]:
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.cookies['auth_token']}"}


# --- list and read -------------------------------------------------------------------------------------


async def test_admins_list_the_organizations_users_with_filters(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(user(demo, "admin"))
    await other_tenant(database_url)
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
    data = ok(await client.get(f"/api/users/{client_id}", headers=key(user(demo, "admin"))))
    assert set(data) == USER_FIELDS
    assert (data["id"], data["email"], data["role"], data["workspace_ids"]) == (
        client_id,
        client_user.email,
        "client",
        client_user.workspace_ids,
    )


# --- create --------------------------------------------------------------------------------------------


async def test_a_user_created_with_a_password_can_sign_in_at_once(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(user(demo, "admin"))
    first = demo.workspaces[0]
    body = new_user(
        email="New.Person@Demo.Tabular.Test", name=" New Person ", password=PASSWORD, workspace_ids=[first.id, first.id]
    )
    created = ok(await client.post("/api/users", json=body, headers=admin), 201)
    assert set(created) == CREATED_FIELDS
    assert (created["email"], created["name"], created["role"]) == (
        "new.person@demo.tabular.test",
        "New Person",
        "member",
    )
    assert (created["active"], created["password_set"], created["mfa_enabled"]) == (True, True, False)
    assert (created["workspace_ids"], created["set_password_token"], created["set_password_expires_at"]) == (
        [first.id],
        None,
        None,
    )
    assert ok(await client.get(f"/api/users/{created['id']}", headers=admin)) == {
        name: value for name, value in created.items() if name in USER_FIELDS
    }

    session = bearer_of(await sign_in(client, "new.person@demo.tabular.test", PASSWORD))
    me = ok(await client.get("/api/auth", headers=session))["data"]
    assert (me["user_id"], me["role"], me["workspace_ids"]) == (created["id"], "member", [first.id])
    assert ok(await client.get(f"/api/workspaces/{first.id}", headers=session))["member_count"] == 4

    [event] = await audit_events(database_url, AuditEventType.USER_CREATED)
    assert (event.target_type, event.target_id, event.actor_user_id) == (
        "user",
        created["id"],
        uuid.UUID(await user_id(client, user(demo, "admin"))),
    )
    assert event.data == {
        "email": "new.person@demo.tabular.test",
        "role": "member",
        "workspace_ids": [first.id],
        "password_set": True,
    }


async def test_an_invited_user_sets_a_password_once_with_the_token(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(user(demo, "admin"))
    created = ok(await client.post("/api/users", json=new_user(role="client"), headers=admin), 201)
    token = created["set_password_token"]
    assert isinstance(token, str)
    assert created["password_set"] is False
    expires = dt.datetime.fromisoformat(created["set_password_expires_at"])
    assert dt.timedelta(hours=1) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)
    assert_problem(await sign_in(client, created["email"], PASSWORD), 401, "invalid_credentials")

    weak = await client.post("/api/users/set-password", json={"token": token, "password": "short"})
    assert_problem(weak, 422, "weak_password")  # the token is not spent by a refused password
    assert ok(await client.post("/api/users/set-password", json={"token": token, "password": PASSWORD}), 204) is None
    session = bearer_of(await sign_in(client, created["email"], PASSWORD))
    assert ok(await client.get("/api/auth", headers=session))["data"]["role"] == "client"
    assert ok(await client.get(f"/api/users/{created['id']}", headers=admin))["password_set"] is True

    again = await client.post("/api/users/set-password", json={"token": token, "password": "another " + PASSWORD})
    assert_problem(again, 401, "invalid_token")
    assert_problem(await sign_in(client, created["email"], "another " + PASSWORD), 401, "invalid_credentials")

    [changed] = await audit_events(database_url, AuditEventType.PASSWORD_CHANGED)
    assert (changed.actor_user_id, changed.target_id, changed.data) == (
        uuid.UUID(created["id"]),
        created["id"],
        {"via": "set_password_token"},
    )
    async with database(database_url) as session_db:
        for event in await session_db.scalars(select(AuditEvent)):
            text = json.dumps(event.data)
            assert token not in text
            assert PASSWORD not in text


def forged(user_id: str, *, secret: str = TEST_SECRET, **claims: Any) -> str:
    now = dt.datetime.now(dt.UTC)
    payload = {
        "iss": "tabular",
        "aud": "set-password",
        "sub": user_id,
        "ver": 0,
        "iat": now,
        "exp": now + dt.timedelta(hours=1),
    } | claims
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, secret, algorithm="HS256")


async def test_a_bad_set_password_token_is_401(client: Client, demo: DemoData) -> None:
    admin = key(user(demo, "admin"))
    created = ok(await client.post("/api/users", json=new_user(), headers=admin), 201)
    invited = created["id"]
    hour = dt.timedelta(hours=1)
    past = dt.datetime.now(dt.UTC) - 2 * hour
    cases = {
        "expired": (forged(invited, iat=past, exp=past + hour), "token_expired"),
        "other-secret": (forged(invited, secret="x" * 64), "invalid_token"),
        "session-audience": (forged(invited, aud="tabular"), "invalid_token"),
        "no-audience": (forged(invited, aud=None), "invalid_token"),
        "older-version": (forged(invited, ver=-1), "invalid_token"),
        "version-not-int": (forged(invited, ver="0"), "invalid_token"),
        "unknown-user": (forged(str(uuid.uuid4())), "invalid_token"),
        "sub-not-uuid": (forged("someone"), "invalid_token"),
        "garbage": ("not.a.token", "invalid_token"),
    }
    session = await session_headers(client, user(demo, "member", 0))
    cases["a-session-token"] = (session["Authorization"].removeprefix("Bearer "), "invalid_token")
    for case, (token, code) in cases.items():
        response = await client.post("/api/users/set-password", json={"token": token, "password": PASSWORD})
        assert response.status_code == 401, (case, response.text)
        assert response.json()["code"] == code, case
    assert_problem(await sign_in(client, created["email"], PASSWORD), 401, "invalid_credentials")

    # A well-formed token of the right version works: the forged ones failed for their one difference.
    assert (
        ok(await client.post("/api/users/set-password", json={"token": forged(invited), "password": PASSWORD}), 204)
        is None
    )


async def test_a_deactivated_invitee_cannot_use_the_token(client: Client, demo: DemoData) -> None:
    admin = key(user(demo, "admin"))
    created = ok(await client.post("/api/users", json=new_user(), headers=admin), 201)
    ok(await client.patch(f"/api/users/{created['id']}", json={"active": False}, headers=admin))
    ok(await client.patch(f"/api/users/{created['id']}", json={"active": True}, headers=admin))
    body = {"token": created["set_password_token"], "password": PASSWORD}
    assert_problem(await client.post("/api/users/set-password", json=body), 401, "invalid_token")


async def test_creation_is_refused_for_a_taken_email_a_foreign_workspace_or_a_weak_password(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(user(demo, "admin"))
    other = await other_tenant(database_url)
    taken = [user(demo, "member", 0).email, user(demo, "member", 0).email.upper(), "boss@elsewhere.test"]
    for email in taken:
        assert_problem(await client.post("/api/users", json=new_user(email=email), headers=admin), 409, "email_taken")
    for workspace_id in (other.workspace_id, uuid.uuid4()):
        body = new_user(workspace_ids=[demo.workspaces[0].id, str(workspace_id)])
        assert_problem(await client.post("/api/users", json=body, headers=admin), 404, "not_found")
    for password in ("short", "aaaaaaaaaaaa", "new.person@demo.tabular.test"):
        answer = await client.post("/api/users", json=new_user(password=password), headers=admin)
        assert_problem(answer, 422, "weak_password")
        assert answer.json()["errors"][0]["field"] == "password"
    assert ok(await client.get("/api/users", headers=admin))["total"] == 4
    assert await audit_events(database_url, AuditEventType.USER_CREATED) == []


# --- update: name, role, activation ---------------------------------------------------------------------


async def test_rename_and_change_role_are_audited(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
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

    events = await audit_events(
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
    admin = key(user(demo, "admin"))
    admin_path = f"/api/users/{await user_id(client, user(demo, 'admin'))}"
    for change in ({"role": "member"}, {"role": "client"}, {"active": False}, {"role": "member", "active": False}):
        assert_problem(await client.patch(admin_path, json=change, headers=admin), 409, "last_admin")
    assert ok(await client.patch(admin_path, json={"role": "admin", "active": True, "name": "Ada"}, headers=admin))

    # A deactivated admin does not count as another admin.
    second = ok(await client.post("/api/users", json=new_user(role="admin", password=PASSWORD), headers=admin), 201)
    second_path = f"/api/users/{second['id']}"
    ok(await client.patch(second_path, json={"active": False}, headers=admin))
    assert_problem(await client.patch(admin_path, json={"role": "member"}, headers=admin), 409, "last_admin")
    ok(await client.patch(second_path, json={"role": "member"}, headers=admin))  # demoting an inactive admin is fine

    # With another active admin, the first may step down; then the second is the last one.
    ok(await client.patch(second_path, json={"role": "admin", "active": True}, headers=admin))
    assert ok(await client.patch(admin_path, json={"role": "member"}, headers=admin))["role"] == "member"
    second_session = bearer_of(await sign_in(client, second["email"], PASSWORD))
    assert_problem(await client.patch(second_path, json={"active": False}, headers=second_session), 409, "last_admin")
    assert_problem(await client.get("/api/users", headers=admin), 403, "role_forbidden")  # the key acts as a member now


async def test_role_changes_and_deactivation_reach_sessions_and_keys_on_the_next_request(
    demo: DemoData, database_url: str
) -> None:
    """With a 60-second identity cache, so the change must drop the cached identity of this worker."""
    member = user(demo, "member", 0)
    first = demo.workspaces[0]
    async with app_client(database_url, auth_cache_ttl=60) as client:
        admin = key(user(demo, "admin"))
        path = f"/api/users/{await user_id(client, member)}"
        session = await session_headers(client, member)
        for credential in (session, key(member)):
            assert ok(await client.get("/api/auth", headers=credential))["data"]["role"] == "member"
            assert (await client.get("/api/surveys", params={"workspace_id": first.id}, headers=credential)).is_success

        ok(await client.patch(path, json={"role": "client"}, headers=admin))
        assert_problem(await client.get("/api/auth", headers=session), 401, "session_revoked")
        assert ok(await client.get("/api/auth", headers=key(member)))["data"]["role"] == "client"
        surveys = await client.get("/api/surveys", params={"workspace_id": first.id}, headers=key(member))
        assert_problem(surveys, 403, "role_forbidden")

        ok(await client.patch(path, json={"active": False}, headers=admin))
        assert_problem(await client.get("/api/auth", headers=key(member)), 401, "account_disabled")
        assert_problem(await client.get("/api/auth", headers=session), 401)

        ok(await client.patch(path, json={"active": True, "role": "member"}, headers=admin))
        assert ok(await client.get("/api/auth", headers=key(member)))["data"]["role"] == "member"
        assert_problem(await client.get("/api/auth", headers=session), 401, "session_revoked")  # sessions stay ended


# --- who may, and another organization ------------------------------------------------------------------


async def test_a_member_may_not_manage_users(client: Client, demo: DemoData) -> None:
    member = key(user(demo, "member", 0))
    own_path = f"/api/users/{await user_id(client, user(demo, 'member', 0))}"
    assert_problem(await client.get("/api/users", headers=member), 403, "role_forbidden")
    assert_problem(await client.post("/api/users", json=new_user(), headers=member), 403, "role_forbidden")
    assert_problem(await client.get(own_path, headers=member), 403, "role_forbidden")
    assert_problem(await client.patch(own_path, json={"role": "admin"}, headers=member), 403, "role_forbidden")


async def test_another_organizations_user_is_404(client: Client, demo: DemoData, database_url: str) -> None:
    admin = key(user(demo, "admin"))
    other = await other_tenant(database_url)
    answers = []
    for user_id_ in (other.user_id, uuid.uuid4()):
        answers += [
            await client.get(f"/api/users/{user_id_}", headers=admin),
            await client.patch(f"/api/users/{user_id_}", json={"active": False}, headers=admin),
        ]
    for answer in answers:
        assert_problem(answer, 404, "not_found")
    assert len({answer.content for answer in answers}) == 1


# --- bad input ------------------------------------------------------------------------------------------

BAD_CREATE_BODIES: list[Any] = [
    {},
    new_user(role="owner"),
    new_user(role="ADMIN"),
    new_user(role=None),
    new_user(email="not-an-email"),
    new_user(email="two@@example.com"),
    new_user(email="spaces in@example.com"),
    new_user(email="nul\u0000@example.com"),
    new_user(email="a@b"),
    new_user(email="a" * 320 + "@example.com"),
    new_user(email=42),
    new_user(name=""),
    new_user(name="   "),
    new_user(name="x" * 201),
    new_user(name="bell\u0007"),
    new_user(password=""),
    new_user(password="x" * 1025),
    new_user(workspace_ids="all"),
    new_user(workspace_ids=["not-a-uuid"]),
    new_user(is_admin=True),
    new_user(organization_id=str(uuid.uuid4())),
    [new_user()],
]
BAD_UPDATE_BODIES: list[Any] = [
    {"role": "owner"},
    {"role": None},
    {"active": "no"},
    {"active": None},
    {"name": ""},
    {"name": None},
    {"name": "\u0000"},
    {"email": "new@example.com"},
    {"password": PASSWORD},
    {"token_version": 0},
    [],
]
BAD_SET_PASSWORD_BODIES: list[Any] = [
    {},
    {"token": "x"},
    {"password": PASSWORD},
    {"token": "", "password": PASSWORD},
    {"token": "x", "password": PASSWORD, "user_id": str(uuid.uuid4())},
    {"token": 1, "password": 2},
]


async def test_bad_input_is_a_4xx_problem(client: Client, demo: DemoData) -> None:
    admin = key(user(demo, "admin"))
    path = f"/api/users/{await user_id(client, user(demo, 'member', 0))}"
    before = ok(await client.get(path, headers=admin))
    for body in BAD_CREATE_BODIES:
        assert_client_error(await client.post("/api/users", json=body, headers=admin), body)
    for body in BAD_UPDATE_BODIES:
        assert_client_error(await client.patch(path, json=body, headers=admin), body)
    for params in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"role": "owner"}, {"active": "maybe"}):
        assert_problem(await client.get("/api/users", params=params, headers=admin), 422, "validation_failed")
    for body in BAD_SET_PASSWORD_BODIES:
        assert_client_error(await client.post("/api/users/set-password", json=body), body)
    assert_client_error(await client.get("/api/users/not-a-uuid", headers=admin), "not-a-uuid")
    assert ok(await client.get("/api/users", headers=admin))["total"] == 4
    assert ok(await client.get(path, headers=admin)) == before
