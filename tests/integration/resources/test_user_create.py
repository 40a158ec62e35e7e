"""`POST /api/users` with a password (signs in at once) or without (a one-time set-password token), and every
refusal: a taken email, a foreign workspace, a weak password, a bad or spent token."""

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
from tests.support.clients import (
    Client,
    assert_problem,
    bearer_of,
    fields_of,
    key,
    ok,
    password_sign_in,
    session_headers,
    user,
    user_id,
)
from tests.support.db import audit_trail, committed_session
from tests.support.resources import CREATED_USER_FIELDS, PASSWORD, USER_FIELDS, user_body
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_a_user_created_with_a_password_can_sign_in_at_once(
    client: Client, demo: DemoData, database_url: str
) -> None:
    admin = key(demo, "admin")
    first = demo.workspaces[0]
    body = user_body(
        email="New.Person@Demo.Tabular.Test", name=" New Person ", password=PASSWORD, workspace_ids=[first.id, first.id]
    )
    created = ok(await client.post("/api/users", json=body, headers=admin), 201)
    assert set(created) == CREATED_USER_FIELDS
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

    session = bearer_of(await password_sign_in(client, "new.person@demo.tabular.test", PASSWORD))
    me = ok(await client.get("/api/auth", headers=session))["data"]
    assert (me["user_id"], me["role"], me["workspace_ids"]) == (created["id"], "member", [first.id])
    assert ok(await client.get(f"/api/workspaces/{first.id}", headers=session))["member_count"] == 4

    [event] = await audit_trail(database_url, AuditEventType.USER_CREATED, operators=False)
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
    admin = key(demo, "admin")
    created = ok(await client.post("/api/users", json=user_body(role="client"), headers=admin), 201)
    token = created["set_password_token"]
    assert isinstance(token, str)
    assert created["password_set"] is False
    expires = dt.datetime.fromisoformat(created["set_password_expires_at"])
    assert dt.timedelta(hours=1) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=7)
    assert_problem(await password_sign_in(client, created["email"], PASSWORD), 401, "invalid_credentials")

    weak = await client.post("/api/users/set-password", json={"token": token, "password": "short"})
    assert_problem(weak, 422, "weak_password")  # the token is not spent by a refused password
    assert ok(await client.post("/api/users/set-password", json={"token": token, "password": PASSWORD}), 204) is None
    session = bearer_of(await password_sign_in(client, created["email"], PASSWORD))
    assert ok(await client.get("/api/auth", headers=session))["data"]["role"] == "client"
    assert ok(await client.get(f"/api/users/{created['id']}", headers=admin))["password_set"] is True

    again = await client.post("/api/users/set-password", json={"token": token, "password": "another " + PASSWORD})
    assert_problem(again, 401, "invalid_token")
    assert_problem(await password_sign_in(client, created["email"], "another " + PASSWORD), 401, "invalid_credentials")

    [changed] = await audit_trail(database_url, AuditEventType.PASSWORD_CHANGED)
    assert (changed.actor_user_id, changed.target_id, changed.data) == (
        uuid.UUID(created["id"]),
        created["id"],
        {"via": "set_password_token"},
    )
    async with committed_session(database_url) as session_db:
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
    admin = key(demo, "admin")
    created = ok(await client.post("/api/users", json=user_body(), headers=admin), 201)
    invited = created["id"]
    hour = dt.timedelta(hours=1)
    past = dt.datetime.now(dt.UTC) - 2 * hour
    cases = {
        "expired": (forged(invited, iat=past, exp=past + hour), "token_expired"),
        "other-secret": (forged(invited, secret="x" * 64), "invalid_token"),
        "session-audience": (forged(invited, aud="session"), "invalid_token"),
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
    assert_problem(await password_sign_in(client, created["email"], PASSWORD), 401, "invalid_credentials")

    # A well-formed token of the right version works: the forged ones failed for their one difference.
    assert (
        ok(await client.post("/api/users/set-password", json={"token": forged(invited), "password": PASSWORD}), 204)
        is None
    )


async def test_a_deactivated_invitee_cannot_use_the_token(client: Client, demo: DemoData) -> None:
    admin = key(demo, "admin")
    created = ok(await client.post("/api/users", json=user_body(), headers=admin), 201)
    ok(await client.patch(f"/api/users/{created['id']}", json={"active": False}, headers=admin))
    ok(await client.patch(f"/api/users/{created['id']}", json={"active": True}, headers=admin))
    body = {"token": created["set_password_token"], "password": PASSWORD}
    assert_problem(await client.post("/api/users/set-password", json=body), 401, "invalid_token")


async def test_creation_is_refused_for_a_taken_email_a_foreign_workspace_or_a_weak_password(
    client: Client, demo: DemoData, database_url: str, other_tenant: Tenant
) -> None:
    admin = key(demo, "admin")
    taken = [user(demo, "member", 0).email, user(demo, "member", 0).email.upper()]  # another tenant's: see security
    for email in taken:
        assert_problem(await client.post("/api/users", json=user_body(email=email), headers=admin), 409, "email_taken")
    for workspace_id in (other_tenant.workspace_id, uuid.uuid4()):
        body = user_body(workspace_ids=[demo.workspaces[0].id, str(workspace_id)])
        refused = await client.post("/api/users", json=body, headers=admin)
        assert_problem(refused, 422, "validation_failed")
        assert fields_of(refused) == (422, ["workspace_ids[1]"])
    for password in ("short", "aaaaaaaaaaaa", "new.person@demo.tabular.test"):
        answer = await client.post("/api/users", json=user_body(password=password), headers=admin)
        assert_problem(answer, 422, "weak_password")
        assert answer.json()["errors"][0]["field"] == "password"
    assert ok(await client.get("/api/users", headers=admin))["total"] == 4
    assert await audit_trail(database_url, AuditEventType.USER_CREATED, operators=False) == []
