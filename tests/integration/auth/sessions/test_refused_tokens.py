"""Every way a session token can be unacceptable is a 401 with a stable `code`: each forged case differs from
an accepted token by exactly one thing."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pytest

from tests.support.clients import bearer
from tests.support.sessions import (
    DROP,
    REQUIRED_CLAIMS,
    Account,
    Client,
    assert_auth_problem,
    claims_for,
    expired,
    forge,
    sign_in,
    tampered,
    unix_now,
    unsigned,
    update_user,
    who_am_i,
)

if TYPE_CHECKING:
    from collections.abc import Callable


pytestmark = pytest.mark.anyio


BAD_TOKENS = [
    pytest.param(expired, "session_expired", id="expired"),
    pytest.param(tampered, "invalid_token", id="tampered-payload"),
    pytest.param(lambda uid: forge(claims_for(uid), key="another-secret-" + "y" * 40), "invalid_token", id="wrong-key"),
    pytest.param(lambda uid: unsigned(claims_for(uid)), "invalid_token", id="alg-none"),
    pytest.param(lambda uid: forge(claims_for(uid), algorithm="HS384"), "invalid_token", id="HS384"),
    pytest.param(lambda uid: forge(claims_for(uid), algorithm="HS512"), "invalid_token", id="HS512"),
    pytest.param(lambda uid: forge(claims_for(uid, iss="someone-else")), "invalid_token", id="wrong-issuer"),
    pytest.param(lambda uid: forge(claims_for(uid, iat=unix_now() + 3600)), "invalid_token", id="issued-in-future"),
    pytest.param(lambda uid: forge(claims_for(uid, sub="admin")), "invalid_token", id="sub-not-a-uuid"),
    pytest.param(lambda uid: forge(claims_for(uid, ver="one")), "invalid_token", id="ver-not-a-number"),
    pytest.param(lambda _: forge(claims_for(uuid.uuid4())), "session_revoked", id="unknown-user"),
    pytest.param(lambda uid: forge(claims_for(uid, ver=1)), "session_revoked", id="stale-version"),
    *(
        pytest.param(
            lambda uid, claim=claim: forge(claims_for(uid, **{claim: DROP})), "invalid_token", id=f"no-{claim}"
        )
        for claim in REQUIRED_CLAIMS
    ),
    pytest.param(lambda _: "a.b.c", "invalid_token", id="garbage-segments"),
    pytest.param(lambda _: "not-a-jwt", "invalid_token", id="not-a-jwt"),
    pytest.param(lambda uid: forge(claims_for(uid)) + "x", "invalid_token", id="signature-extended"),
]


async def test_a_forged_token_with_the_signing_secret_is_accepted(client: Client, account: Account) -> None:
    """The control for the cases below: they differ from this token by exactly one thing."""
    response = await who_am_i(client, bearer(forge(claims_for(account.id))))
    assert response.status_code == 200, response.text
    assert response.json()["data"]["user_id"] == str(account.id)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer "}, {"Authorization": "Bearer"}, {"Cookie": "auth_token="}],
    ids=["nothing", "empty-bearer", "bare-bearer", "empty-cookie"],
)
async def test_no_credentials_is_401(client: Client, headers: dict[str, str]) -> None:
    assert_auth_problem(await who_am_i(client, headers), 401, "unauthenticated")


@pytest.mark.parametrize(("make_token", "code"), BAD_TOKENS)
async def test_a_bad_bearer_token_is_401(
    client: Client, account: Account, make_token: Callable[[uuid.UUID], str], code: str
) -> None:
    assert_auth_problem(await who_am_i(client, bearer(make_token(account.id))), 401, code)


@pytest.mark.parametrize(
    ("make_token", "code"), [case for case in BAD_TOKENS if case.id in {"expired", "tampered-payload", "alg-none"}]
)
async def test_a_bad_session_cookie_is_401(
    client: Client, account: Account, make_token: Callable[[uuid.UUID], str], code: str
) -> None:
    assert_auth_problem(await who_am_i(client, {"Cookie": f"auth_token={make_token(account.id)}"}), 401, code)


async def test_a_deactivated_users_session_is_refused(client: Client, database_url: str, account: Account) -> None:
    session = await sign_in(client, account.email, account.password)
    assert (await who_am_i(client, session.bearer())).status_code == 200

    await update_user(database_url, account.email, is_active=False)

    assert_auth_problem(await who_am_i(client, session.bearer()), 401, "account_disabled")
    assert_auth_problem(await who_am_i(client, session.cookie()), 401, "account_disabled")
