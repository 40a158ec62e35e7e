"""Hostile input to the MFA endpoints and to a sign-in's code is a client problem, never a crash."""

from __future__ import annotations

import pytest

from tests.support.clients import Client, bearer
from tests.support.mfa import (
    ACTIONS_WITH_A_CODE,
    MFA,
    Account,
    assert_mfa_problem,
    assert_refused_sign_in,
    mfa_post,
    sign_in,
    signed_in,
    who_am_i,
)

pytestmark = pytest.mark.anyio


BAD_BODIES = [
    pytest.param(b'{"code": "12', id="malformed-json"),
    pytest.param(b"", id="empty-body"),
    pytest.param(b"[]", id="array"),
    pytest.param(b"null", id="null"),
    pytest.param(b"{}", id="missing-code"),
    pytest.param(b'{"code": "123456", "extra": 1}', id="unknown-field"),
    pytest.param(b'{"code": "' + b"1" * 33 + b'"}', id="33-characters"),
    pytest.param(b'{"code": ""}', id="empty-code"),
    pytest.param(b'{"code": 123456}', id="number"),
    pytest.param(b'{"code": null}', id="null-code"),
    pytest.param(b'{"code": ["123456"]}', id="list-code"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_bad_input_is_a_client_problem_never_a_crash(client: Client, admin: Account, body: bytes) -> None:
    token = await signed_in(client, admin.email, admin.password, admin.authenticator.code())
    for action in ACTIONS_WITH_A_CODE:
        response = await client.post(
            f"{MFA}/{action}", content=body, headers=bearer(token) | {"Content-Type": "application/json"}
        )
        assert response.status_code in {400, 422}, (action, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["success"] == 0
    assert (await who_am_i(client, token))["mfa_enabled"] is True


@pytest.mark.parametrize(
    "otp", [pytest.param(123456, id="number"), pytest.param("1" * 33, id="33-characters"), pytest.param("", id="empty")]
)
async def test_a_malformed_otp_at_sign_in_is_a_client_problem(client: Client, admin: Account, otp: object) -> None:
    body = {"email": admin.email, "password": admin.password, "action": "login", "otp": otp}
    response = await client.post("/api/auth", json=body)
    assert response.status_code in {400, 422}, response.text
    assert response.json()["success"] == 0
    assert "set-cookie" not in response.headers


async def test_digits_of_other_scripts_are_a_wrong_code_not_a_crash(client: Client, admin: Account) -> None:
    code = admin.authenticator.code()
    arabic = "".join(chr(0x0660 + int(digit)) for digit in code)
    assert_refused_sign_in(await sign_in(client, admin.email, admin.password, arabic), "invalid_otp")
    token = await signed_in(client, admin.email, admin.password, code)
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in admin.authenticator.code())
    assert_mfa_problem(await mfa_post(client, "disable", token, {"code": fullwidth}), 401, "invalid_otp")
