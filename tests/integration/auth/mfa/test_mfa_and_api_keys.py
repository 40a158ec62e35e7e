"""API keys and the second factor: no MFA endpoint takes a key, and no key is made without a verified factor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import Client, bearer, user
from tests.support.mfa import (
    ACTIONS_WITH_A_CODE,
    MFA,
    Account,
    assert_mfa_problem,
    signed_in,
)

if TYPE_CHECKING:
    from tabular.demo import DemoData

pytestmark = pytest.mark.anyio


async def test_every_mfa_endpoint_refuses_an_api_key(client: Client, demo: DemoData) -> None:
    key = user(demo, "admin").api_key
    assert key is not None
    for headers in ({"X-API-Key": key}, {"Authorization": f"Bearer {key}"}):
        for action in ("setup", *ACTIONS_WITH_A_CODE):
            response = await client.post(f"{MFA}/{action}", json={"code": "123456"}, headers=headers)
            assert_mfa_problem(response, 403, "api_key_not_allowed")


async def test_a_session_from_before_enrolment_cannot_create_keys(
    client: Client, enrolled: Account, token: str
) -> None:
    """MFA is on now; the token signed in with the password alone ended with the enrolment: no key from it.

    The demo organization is on a paid tier, so the only refusals left are the ones about the second factor.
    """
    before = await client.post("/api/keys", json={"name": "ci"}, headers=bearer(token))
    assert before.status_code == 401
    assert before.json()["code"] == "session_revoked"
    with_code = await signed_in(client, enrolled.email, enrolled.password, enrolled.authenticator.code())
    after = await client.post("/api/keys", json={"name": "ci"}, headers=bearer(with_code))
    assert after.status_code == 201, after.text
