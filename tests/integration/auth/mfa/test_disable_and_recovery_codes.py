"""Disabling MFA (with a code or a recovery code) and replacing the recovery codes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tabular.db import RecoveryCode
from tests.support.clients import Client
from tests.support.db import committed_session
from tests.support.mfa import (
    Account,
    assert_mfa_problem,
    assert_recovery_codes,
    assert_refused_sign_in,
    mfa_post,
    sign_in,
    signed_in,
    who_am_i,
)

pytestmark = pytest.mark.anyio


async def test_disable_with_a_recovery_code(client: Client, enrolled: Account, database_url: str) -> None:
    disabled = await mfa_post(client, "disable", enrolled.session, {"code": enrolled.recovery_codes[0]})
    assert disabled.status_code == 200, disabled.text
    assert disabled.json() == {"success": 1, "data": {"mfa_enabled": False}}

    assert (await who_am_i(client, enrolled.session))["mfa_enabled"] is False
    await signed_in(client, enrolled.email, enrolled.password)
    assert enrolled.user_id is not None
    async with committed_session(database_url) as session:
        left = await session.scalar(select(func.count()).where(RecoveryCode.user_id == enrolled.user_id))
    assert left == 0
    for action in ("disable", "recovery-codes"):
        assert_mfa_problem(await mfa_post(client, action, enrolled.session, {"code": "123456"}), 409, "mfa_not_enabled")


async def test_disable_with_a_totp_code_allows_a_new_enrolment(client: Client, enrolled: Account) -> None:
    disabled = await mfa_post(client, "disable", enrolled.session, {"code": enrolled.authenticator.code()})
    assert disabled.status_code == 200, disabled.text
    await signed_in(client, enrolled.email, enrolled.password)

    setup = await mfa_post(client, "setup", enrolled.session)
    assert setup.status_code == 200, setup.text
    assert setup.json()["data"]["secret"] != enrolled.authenticator.secret


async def test_disable_refuses_a_wrong_code(client: Client, enrolled: Account) -> None:
    assert_mfa_problem(
        await mfa_post(client, "disable", enrolled.session, {"code": enrolled.authenticator.wrong_code()}),
        401,
        "invalid_otp",
    )
    assert (await who_am_i(client, enrolled.session))["mfa_enabled"] is True
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password), "mfa_required")


async def test_new_recovery_codes_replace_the_old_ones(client: Client, enrolled: Account) -> None:
    old = enrolled.recovery_codes
    assert_mfa_problem(await mfa_post(client, "recovery-codes", enrolled.session, {"code": old[0]}), 401, "invalid_otp")

    new = assert_recovery_codes(
        await mfa_post(client, "recovery-codes", enrolled.session, {"code": enrolled.authenticator.code()})
    )
    assert set(new).isdisjoint(old)
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, old[1]), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, new[0])
