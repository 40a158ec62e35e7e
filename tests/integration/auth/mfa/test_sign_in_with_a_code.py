"""Signing in with MFA: a code or a recovery code works once, an earlier code never after a later one, and
however concurrent requests interleave, one code lets one in and every wrong one counts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.clients import Client
from tests.support.mfa import (
    Account,
    assert_refused_sign_in,
    sign_in,
    sign_in_together,
    signed_in,
    who_am_i,
)

if TYPE_CHECKING:
    from tabular.settings import Settings

pytestmark = pytest.mark.anyio


async def test_after_enrolment_sign_in_needs_a_code_and_a_code_works_once(client: Client, enrolled: Account) -> None:
    email, password = enrolled.email, enrolled.password
    assert_refused_sign_in(await sign_in(client, email, password), "mfa_required")
    assert_refused_sign_in(await sign_in(client, email, "wrong password"), "invalid_credentials")

    code = enrolled.authenticator.code()
    token = await signed_in(client, email, password, code)
    assert (await who_am_i(client, token))["mfa_verified"] is True
    assert_refused_sign_in(await sign_in(client, email, password, code), "invalid_otp")


async def test_an_earlier_code_is_refused_after_a_later_one(client: Client, admin: Account) -> None:
    app = admin.authenticator
    earlier, later = app.code(), app.code()
    await signed_in(client, admin.email, admin.password, later)
    assert_refused_sign_in(await sign_in(client, admin.email, admin.password, earlier), "invalid_otp")


async def test_a_recovery_code_signs_in_once(client: Client, enrolled: Account) -> None:
    first, second = enrolled.recovery_codes[:2]
    await signed_in(client, enrolled.email, enrolled.password, first)
    assert_refused_sign_in(await sign_in(client, enrolled.email, enrolled.password, first), "invalid_otp")
    await signed_in(client, enrolled.email, enrolled.password, second.upper().replace("-", ""))


async def test_concurrent_sign_ins_with_one_code_let_one_in(settings: Settings, admin: Account) -> None:
    statuses = await sign_in_together(settings, admin, admin.authenticator.code(), times=4)
    assert statuses == [200, 401, 401, 401]


async def test_concurrent_sign_ins_with_one_recovery_code_let_one_in(settings: Settings, enrolled: Account) -> None:
    statuses = await sign_in_together(settings, enrolled, enrolled.recovery_codes[0], times=4)
    assert statuses == [200, 401, 401, 401]


async def test_concurrent_wrong_codes_are_all_counted(settings: Settings, admin: Account) -> None:
    statuses = await sign_in_together(settings, admin, admin.authenticator.wrong_code(), times=8)
    assert statuses == [401] * 5 + [429] * 3
