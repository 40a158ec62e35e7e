"""Attack: forge a session token: `alg: none`, algorithm confusion, an edited payload, an expired or foreign one.

Each forgery differs from a token the API accepts (the control) by one thing, and is refused with a 401
problem wherever a session travels: as Bearer and as the cookie, on `/api/auth` and on a resource route.
The API signs HS256 with its secret and accepts nothing else, whatever the token's header says.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.clients import assert_problem, bearer
from tests.support.sessions import (
    Account,
    assert_auth_problem,
    b64,
    claims_for,
    expired,
    forge,
    new_account,
    tampered,
    unsigned,
)
from tests.support.settings import TEST_SECRET

if TYPE_CHECKING:
    from tests.support.clients import Client

pytestmark = pytest.mark.anyio

PUBLIC_KEY = b"""-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----
"""
"""An RSA public key, as a server that verified RS256 would publish: anyone holds it."""


def signed(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A JWT with exactly this header, HMAC-SHA256-signed with `key` (PyJWT refuses to use a PEM as an HMAC key)."""
    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64_bytes(signature)}"


def b64_bytes(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


ATTACKER_KEY = b"the attacker's own key, sent along"
HS256 = {"alg": "HS256", "typ": "JWT"}

ALG_NONE = {
    "alg-none": lambda uid: unsigned(claims_for(uid)),
    "alg-None": lambda uid: f"{b64({'alg': 'None', 'typ': 'JWT'})}.{b64(claims_for(uid))}.",
    "alg-NONE-with-a-signature-left-on": lambda uid: (
        f"{b64({'alg': 'NONE', 'typ': 'JWT'})}.{b64(claims_for(uid))}.{forge(claims_for(uid)).rsplit('.', 1)[1]}"
    ),
}

ALGORITHM_CONFUSION = {
    "hs256-signed-with-a-public-rsa-key": lambda uid: signed(HS256, claims_for(uid), PUBLIC_KEY),
    "rs256-header-hmac-signed-with-the-public-key": lambda uid: signed(
        {"alg": "RS256", "typ": "JWT"}, claims_for(uid), PUBLIC_KEY
    ),
    "rs256-header-hmac-signed-with-the-real-secret": lambda uid: signed(
        {"alg": "RS256", "typ": "JWT"}, claims_for(uid), TEST_SECRET.encode()
    ),
    "embedded-jwk-with-the-attackers-key": lambda uid: signed(
        HS256 | {"jwk": {"kty": "oct", "k": b64_bytes(ATTACKER_KEY)}}, claims_for(uid), ATTACKER_KEY
    ),
    "kid-pointing-at-an-empty-file": lambda uid: signed(
        HS256 | {"kid": "../../../../../../dev/null"}, claims_for(uid), b""
    ),
    "hs256-signed-with-the-issuer-name": lambda uid: signed(HS256, claims_for(uid), b"tabular"),
}


async def _refused_everywhere(client: Client, token: str, code: str) -> None:
    """401 `code` as Bearer and as the cookie, on who-am-I (the auth envelope) and on a resource route."""
    for headers in (bearer(token), {"Cookie": f"auth_token={token}"}):
        assert_auth_problem(await client.get("/api/auth", headers=headers), 401, code)
        assert_problem(await client.get("/api/keys", headers=headers), 401, code)


@pytest.fixture
async def account(database_url: str) -> Account:
    return await new_account(database_url, "forger.target@example.com")


async def test_the_control_a_token_signed_with_the_secret_is_accepted(client: Client, account: Account) -> None:
    """Every forgery below differs from this token in one thing; without this, a refusal would prove nothing."""
    token = forge(claims_for(account.id))
    for headers in (bearer(token), {"Cookie": f"auth_token={token}"}):
        answer = await client.get("/api/auth", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["user_id"] == str(account.id)


@pytest.mark.parametrize("make", ALG_NONE.values(), ids=ALG_NONE.keys())
async def test_alg_none_is_refused(client: Client, account: Account, make: Any) -> None:
    await _refused_everywhere(client, make(account.id), "invalid_token")


@pytest.mark.parametrize("make", ALGORITHM_CONFUSION.values(), ids=ALGORITHM_CONFUSION.keys())
async def test_algorithm_confusion_is_refused(client: Client, account: Account, make: Any) -> None:
    await _refused_everywhere(client, make(account.id), "invalid_token")


async def test_a_tampered_payload_is_refused(client: Client, account: Account) -> None:
    await _refused_everywhere(client, tampered(account.id), "invalid_token")


async def test_a_payload_promoted_to_another_user_is_refused(
    client: Client, account: Account, database_url: str
) -> None:
    victim = await new_account(database_url, "forger.victim@example.com")
    header, _, signature = forge(claims_for(account.id)).split(".")
    await _refused_everywhere(client, f"{header}.{b64(claims_for(victim.id))}.{signature}", "invalid_token")


async def test_an_expired_token_is_refused(client: Client, account: Account) -> None:
    await _refused_everywhere(client, expired(account.id), "session_expired")


@pytest.mark.parametrize(
    "changes",
    [{"iss": "someone-else"}, {"iss": "Tabular"}, {"aud": "set-password"}, {"aud": "someone-else"}],
    ids=["wrong-issuer", "issuer-in-another-case", "a-set-password-token", "wrong-audience"],
)
async def test_a_token_from_another_issuer_or_for_another_purpose_is_refused(
    client: Client, account: Account, changes: dict[str, Any]
) -> None:
    await _refused_everywhere(client, forge(claims_for(account.id, **changes)), "invalid_token")


async def test_a_token_without_an_expiry_is_refused(client: Client, account: Account) -> None:
    """A token that never expires would be the prize of any forgery that got past the signature."""
    claims = {name: value for name, value in claims_for(account.id).items() if name != "exp"}
    await _refused_everywhere(client, forge(claims), "invalid_token")
