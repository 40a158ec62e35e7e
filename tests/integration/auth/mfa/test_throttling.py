"""Five wrong second-factor codes lock the user out for fifteen minutes, wherever the codes were sent; a right
code resets the count."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tabular.db import User
from tabular.db.base import utcnow
from tabular.services.mfa import LOCKOUT
from tests.support.clients import Client
from tests.support.db import execute
from tests.support.mfa import (
    Account,
    assert_mfa_problem,
    assert_refused_sign_in,
    mfa_post,
    sign_in,
    signed_in,
)

pytestmark = pytest.mark.anyio


async def test_after_five_wrong_codes_even_a_right_one_is_throttled(client: Client, admin: Account) -> None:
    app = admin.authenticator
    token = await signed_in(client, admin.email, admin.password, app.code())
    for _ in range(5):
        assert_refused_sign_in(await sign_in(client, admin.email, admin.password, app.wrong_code()), "invalid_otp")

    right = app.code()
    throttled = await sign_in(client, admin.email, admin.password, right)
    assert_mfa_problem(throttled, 429, "mfa_throttled")
    assert "set-cookie" not in throttled.headers
    assert 14 * 60 < int(throttled.headers["retry-after"]) <= 15 * 60 + 1

    # The count is the user's, whichever endpoint the code goes to.
    disabled = await mfa_post(client, "disable", token, {"code": right})
    assert_mfa_problem(disabled, 429, "mfa_throttled")
    assert "retry-after" in disabled.headers


async def test_the_lockout_ends_after_fifteen_minutes(client: Client, admin: Account, database_url: str) -> None:
    for _ in range(5):
        await sign_in(client, admin.email, admin.password, admin.authenticator.wrong_code())
    code = admin.authenticator.code()
    assert_mfa_problem(await sign_in(client, admin.email, admin.password, code), 429, "mfa_throttled")

    long_ago = utcnow() - LOCKOUT - dt.timedelta(seconds=1)  # the server's clock cannot be moved; the row can
    await execute(database_url, update(User).where(User.email == admin.email).values(mfa_failed_at=long_ago))
    await signed_in(client, admin.email, admin.password, code)


async def test_a_right_code_resets_the_count_of_wrong_ones(client: Client, admin: Account) -> None:
    app = admin.authenticator
    for _ in range(2):
        for _ in range(4):
            assert_refused_sign_in(await sign_in(client, admin.email, admin.password, app.wrong_code()), "invalid_otp")
        await signed_in(client, admin.email, admin.password, app.code())


async def test_wrong_codes_on_the_mfa_endpoints_count_too(client: Client, enrolled: Account) -> None:
    wrong = enrolled.authenticator.wrong_code()
    for action in ("disable", "recovery-codes", "disable", "recovery-codes", "disable"):
        assert_mfa_problem(await mfa_post(client, action, enrolled.session, {"code": wrong}), 401, "invalid_otp")
    throttled = await sign_in(client, enrolled.email, enrolled.password, enrolled.recovery_codes[0])
    assert_mfa_problem(throttled, 429, "mfa_throttled")
