"""Admins review every key of their organization by owner and revoke any (audited); the key stops at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.api_keys import x_api_key
from tests.support.clients import Client, assert_problem, key, ok, user

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_an_admin_lists_every_key_of_the_organization_with_its_owner(demo: DemoData, client: Client) -> None:
    page = ok(await client.get("/api/organization/keys", headers=key(demo, "admin")))
    owners = {item["owner"]["email"] for item in page["items"]}
    assert owners == {person.email for person in demo.users}
    assert page["total"] == len(page["items"])
    assert all("key_hash" not in item["key"] and "key" not in item["key"] for item in page["items"])
    emails = [item["owner"]["email"] for item in page["items"]]
    assert emails == sorted(emails)


async def test_a_member_may_not_review_the_organizations_keys(demo: DemoData, client: Client) -> None:
    assert_problem(await client.get("/api/organization/keys", headers=key(demo, "member")), 403, "role_forbidden")


async def test_an_admin_revokes_a_members_key_which_then_gets_401_and_the_audit_log_says_who(
    demo: DemoData, client: Client
) -> None:
    member = user(demo, "member")
    assert member.api_key is not None
    page = ok(await client.get("/api/organization/keys", headers=key(demo, "admin")))
    item = next(i for i in page["items"] if i["owner"]["email"] == member.email and i["key"]["status"] == "active")
    response = await client.delete(f"/api/organization/keys/{item['key']['id']}", headers=key(demo, "admin"))
    assert response.status_code == 204
    assert (await client.get("/api/auth", headers=x_api_key(member.api_key))).status_code == 401
    events = ok(await client.get("/api/audit?event=api_key.revoked", headers=key(demo, "admin")))["items"]
    [event] = [e for e in events if e["target_id"] == item["key"]["id"]]
    assert event["data"]["reason"] == "revoked_by_admin"
    assert event["data"]["owner"] == item["owner"]["id"]
