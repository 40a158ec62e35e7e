"""Attack: keep using a key after what allowed it is gone (a paid tier, the owner's second factor).

A key is made only on a paid tier by a user with MFA. While the organization is on the free tier its keys
rest (403 `paid_tier_required`) and work again when it pays; turning MFA off revokes the owner's keys for
good, audited, so a stolen session cannot turn MFA off and keep the key it minted.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from uuid import UUID

import pyotp
import pytest
from sqlalchemy import update

from tabular.db import Organization, Tier
from tabular.db.audit import AuditEventType
from tests.support.clients import assert_problem, key, session_headers, user
from tests.support.db import audit_trail, execute

if TYPE_CHECKING:
    from tabular.demo import DemoData
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio


async def test_a_key_rests_while_its_organization_is_on_the_free_tier(
    client: Client, demo: DemoData, database_url: str
) -> None:
    member = key(demo, "member")
    assert (await client.get("/api/auth", headers=member)).status_code == 200
    organization = update(Organization).where(Organization.id == UUID(demo.organization.id))
    await execute(database_url, organization.values(tier=Tier.FREE))
    resting = await client.get("/api/surveys", headers=member)
    assert_problem(resting, 403, "paid_tier_required")
    await execute(database_url, organization.values(tier=Tier.TEAM))
    assert (await client.get("/api/surveys", headers=member)).status_code == 200


async def test_turning_mfa_off_revokes_the_owners_keys(client: Client, demo: DemoData, database_url: str) -> None:
    member = user(demo, "member")
    headers = await session_headers(client, member)
    minted = await client.post("/api/keys", json={"name": "minted with the session"}, headers=headers)
    assert minted.status_code == 201, minted.text
    new_key = {"X-API-Key": minted.json()["key"]}
    assert (await client.get("/api/auth", headers=new_key)).status_code == 200

    next_code = pyotp.TOTP(member.totp_secret).at(time.time() + 30)  # the sign-in spent this step's code
    disabled = await client.post("/api/auth/mfa/disable", json={"code": next_code}, headers=headers)
    assert disabled.status_code == 200, disabled.text
    for revoked in (new_key, key(demo, "member")):
        assert_problem(await client.get("/api/auth", headers=revoked), 401, "api_key_revoked")
    events = await audit_trail(database_url, AuditEventType.API_KEY_REVOKED)
    assert sorted(event.data.get("reason") for event in events) == ["mfa_disabled", "mfa_disabled"]
    assert (await client.get("/api/auth", headers=key(demo, "admin"))).status_code == 200, "others' keys stay"
