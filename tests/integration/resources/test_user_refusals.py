"""Who may not manage users, another organization's user (a 404 like a missing one), and bad input."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

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
from tests.support.resources import PASSWORD, user_body

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.factories import Tenant

pytestmark = pytest.mark.anyio


async def test_a_member_may_not_manage_users(client: Client, demo: DemoData) -> None:
    member = key(demo, "member", 0)
    own_path = f"/api/users/{await user_id(client, user(demo, 'member', 0))}"
    assert_problem(await client.get("/api/users", headers=member), 403, "role_forbidden")
    assert_problem(await client.post("/api/users", json=user_body(), headers=member), 403, "role_forbidden")
    assert_problem(await client.get(own_path, headers=member), 403, "role_forbidden")
    assert_problem(await client.patch(own_path, json={"role": "admin"}, headers=member), 403, "role_forbidden")


async def test_another_organizations_user_is_404(client: Client, demo: DemoData, other_tenant: Tenant) -> None:
    admin = key(demo, "admin")
    answers = []
    for user_id_ in (other_tenant.user_id, uuid.uuid4()):
        answers += [
            await client.get(f"/api/users/{user_id_}", headers=admin),
            await client.patch(f"/api/users/{user_id_}", json={"active": False}, headers=admin),
        ]
    for answer in answers:
        assert_problem(answer, 404, "not_found")
    assert len({without_request_id(answer) for answer in answers}) == 1


BAD_CREATE_BODIES: list[Any] = [
    {},
    user_body(role="owner"),
    user_body(role="ADMIN"),
    user_body(role=None),
    user_body(email="not-an-email"),
    user_body(email="two@@example.com"),
    user_body(email="spaces in@example.com"),
    user_body(email="nul\u0000@example.com"),
    user_body(email="a@b"),
    user_body(email="a" * 320 + "@example.com"),
    user_body(email=42),
    user_body(name=""),
    user_body(name="   "),
    user_body(name="x" * 201),
    user_body(name="bell\u0007"),
    user_body(password=""),
    user_body(password="x" * 1025),
    user_body(workspace_ids="all"),
    user_body(workspace_ids=["not-a-uuid"]),
    user_body(is_admin=True),
    user_body(organization_id=str(uuid.uuid4())),
    [user_body()],
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
    admin = key(demo, "admin")
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
