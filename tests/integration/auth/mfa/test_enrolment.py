"""MFA enrolment: setup gives a secret once, only a right code confirms it, and the secret is never readable again."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.support.clients import Client, bearer
from tests.support.mfa import (
    Account,
    Authenticator,
    assert_mfa_problem,
    assert_recovery_codes,
    mfa_post,
    sign_in,
    signed_in,
    who_am_i,
)

pytestmark = pytest.mark.anyio


async def test_enrolment_turns_mfa_on_only_with_a_right_code(client: Client, account: Account, token: str) -> None:
    assert (await who_am_i(client, token))["mfa_enabled"] is False

    setup = await mfa_post(client, "setup", token)
    assert setup.status_code == 200, setup.text
    assert setup.json()["success"] == 1
    secret, uri = setup.json()["data"]["secret"], urlsplit(setup.json()["data"]["otpauth_uri"])
    assert (uri.scheme, uri.netloc, unquote(uri.path)) == ("otpauth", "totp", f"/Tabular:{account.email}")
    assert parse_qs(uri.query)["secret"] == [secret]
    assert parse_qs(uri.query)["issuer"] == ["Tabular"]
    app = Authenticator(secret)

    assert_mfa_problem(await mfa_post(client, "confirm", token, {"code": app.wrong_code()}), 401, "invalid_otp")
    assert (await who_am_i(client, token))["mfa_enabled"] is False
    await signed_in(client, account.email, account.password)  # still no second factor asked

    confirmed = await mfa_post(client, "confirm", token, {"code": app.code()})
    assert_recovery_codes(confirmed)
    verified_token = confirmed.cookies.get("auth_token")
    assert verified_token
    assert verified_token != token
    me = await who_am_i(client, verified_token)
    assert (me["mfa_enabled"], me["mfa_verified"]) == (True, True)
    ended = await client.get("/api/auth", headers=bearer(token))  # every other session ends, this one's old token too
    assert_mfa_problem(ended, 401, "session_revoked")


async def test_setup_again_before_confirming_replaces_the_pending_secret(client: Client, token: str) -> None:
    first = (await mfa_post(client, "setup", token)).json()["data"]["secret"]
    second = (await mfa_post(client, "setup", token)).json()["data"]["secret"]
    assert first != second
    assert_mfa_problem(
        await mfa_post(client, "confirm", token, {"code": Authenticator(first).code()}), 401, "invalid_otp"
    )
    assert_recovery_codes(await mfa_post(client, "confirm", token, {"code": Authenticator(second).code()}))


async def test_confirm_without_setup_is_a_conflict(client: Client, token: str) -> None:
    assert_mfa_problem(await mfa_post(client, "confirm", token, {"code": "123456"}), 409, "mfa_not_set_up")


async def test_the_secret_is_never_readable_again(client: Client, enrolled: Account) -> None:
    secret = enrolled.authenticator.secret
    me = await client.get("/api/auth", headers=bearer(enrolled.session))
    assert me.status_code == 200
    assert secret not in me.text

    again = await mfa_post(client, "setup", enrolled.session)
    assert_mfa_problem(again, 409, "mfa_already_enabled")
    assert secret not in again.text
    assert "otpauth" not in again.text
    assert "secret" not in again.json()
    assert_mfa_problem(
        await mfa_post(client, "confirm", enrolled.session, {"code": "123456"}), 409, "mfa_already_enabled"
    )

    signed = await sign_in(client, enrolled.email, enrolled.password, enrolled.authenticator.code())
    assert signed.status_code == 200, "the refused setup must not have replaced the secret"
    assert secret not in signed.text
