"""`GET /api/auth` describes the session: who, which organization and role, which credential, the MFA state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import user
from tests.support.sessions import (
    Account,
    Client,
    sign_in,
    sign_in_demo,
    who_am_i,
)

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_who_am_i_describes_the_session(client: Client, demo: DemoData) -> None:
    member = user(demo, "member")
    session = await sign_in_demo(client, member)

    response = await who_am_i(client, session.cookie())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] == 1
    data = body["data"]
    assert data["user_email"] == member.email
    assert data["organization_id"] == demo.organization.id
    assert data["organization_name"] == demo.organization.name
    assert data["tier"] == demo.organization.tier
    assert data["role"] == "member"
    assert data["workspace_ids"] == sorted(member.workspace_ids)
    assert data["credential"] == "session"
    assert data["key_id"] is None
    assert data["read_only"] is False
    assert data["pinned_workspace_id"] is None
    assert (data["mfa_enabled"], data["mfa_verified"]) == (True, True)


async def test_who_am_i_without_mfa(client: Client, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    data = (await who_am_i(client, session.bearer())).json()["data"]
    assert (data["credential"], data["role"], data["workspace_ids"]) == ("session", "member", [])
    assert (data["mfa_enabled"], data["mfa_verified"]) == (False, False)
