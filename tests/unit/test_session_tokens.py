"""`SessionTokens` on its own: what a session token carries, how long it lives, and what `decode` refuses.

The HTTP side (each refusal is a 401 with its code) is in `tests/integration/auth/test_sessions.py`; here
the claims are checked one by one, including their types, which only a holder of the secret could get wrong.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import jwt
import pytest

from tabular.auth.backends import InvalidCredential
from tabular.auth.session_backend import SessionTokens
from tabular.auth.tokens import Audience, TokenCodec

SECRET = "unit-test-signing-secret-" + "z" * 32
USER = uuid.UUID("01890000-0000-7000-8000-000000000001")
tokens = SessionTokens(TokenCodec(SECRET))


def payload_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, SECRET, algorithms=["HS256"], issuer="tabular", audience="session")


def resigned(token: str, **changes: Any) -> str:
    """The token's claims with `changes` (None removes a claim), signed again with the right secret and alg."""
    claims = {name: value for name, value in (payload_of(token) | changes).items() if value is not None}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def refusal(token: str) -> str:
    with pytest.raises(InvalidCredential) as raised:
        tokens.decode(token)
    return raised.value.failure.code


def test_a_token_carries_exactly_the_session_claims() -> None:
    issued = tokens.issue(USER, 3, mfa_verified=True)

    assert jwt.get_unverified_header(issued.token) == {"alg": "HS256", "typ": "JWT"}
    payload = payload_of(issued.token)
    assert set(payload) == {"exp", "iat", "iss", "aud", "sub", "jti", "ver", "mfa", "csrf", "auth_time"}
    assert abs(payload["auth_time"] - payload["iat"]) <= 1  # signed in now: the password was just proved
    assert (payload["iss"], payload["aud"], payload["sub"]) == ("tabular", "session", str(USER))
    assert (payload["ver"], payload["mfa"]) == (3, True)
    assert (payload["jti"], payload["csrf"]) == (issued.claims.token_id, issued.claims.csrf)


def test_decode_returns_what_issue_signed() -> None:
    issued = tokens.issue(USER, 7, mfa_verified=False, remember=True)
    assert tokens.decode(issued.token) == issued.claims


@pytest.mark.parametrize(("remember", "days"), [(False, 7), (True, 30)])
def test_lifetimes(*, remember: bool, days: int) -> None:
    issued = tokens.issue(USER, 0, mfa_verified=False, remember=remember)

    assert issued.max_age == days * 86400
    payload = payload_of(issued.token)
    assert payload["exp"] - payload["iat"] == days * 86400
    assert abs(payload["iat"] - time.time()) < 5
    assert issued.claims.expires_at == dt.datetime.fromtimestamp(payload["exp"], dt.UTC)


def test_every_token_has_its_own_id_and_csrf_token() -> None:
    first, second = (tokens.issue(USER, 0, mfa_verified=False) for _ in range(2))
    assert first.claims.token_id != second.claims.token_id
    assert first.claims.csrf != second.claims.csrf
    assert len(first.claims.csrf) >= 32


def test_an_expired_token_is_session_expired() -> None:
    token = tokens.issue(USER, 0, mfa_verified=False).token
    assert refusal(resigned(token, iat=int(time.time()) - 7200, exp=int(time.time()) - 1)) == "session_expired"


def test_a_token_of_another_secret_is_invalid() -> None:
    token = SessionTokens(TokenCodec("another-signing-secret-" + "q" * 32)).issue(USER, 0, mfa_verified=False).token
    assert refusal(token) == "invalid_token"


@pytest.mark.parametrize(
    "changes",
    [
        *({claim: None} for claim in ("exp", "iat", "iss", "aud", "sub", "jti", "ver", "mfa", "csrf")),
        {"iss": "elsewhere"},
        {"aud": Audience.SET_PASSWORD.value},
        {"aud": "tabular"},
        {"sub": "not-a-uuid"},
        {"sub": 42},
        {"jti": ""},
        {"ver": "1"},
        {"ver": 1.5},
        {"ver": True},
        {"mfa": "false"},
        {"mfa": 1},
        {"csrf": ""},
        {"csrf": 12345},
    ],
    ids=str,
)
def test_a_missing_or_mistyped_claim_is_invalid(changes: dict[str, Any]) -> None:
    token = tokens.issue(USER, 1, mfa_verified=False).token
    assert refusal(resigned(token, **changes)) == "invalid_token"


@pytest.mark.parametrize("token", ["", "a.b.c", "not-a-jwt", "a.b", "....", "eyJhbGciOiJIUzI1NiJ9.e30."])
def test_garbage_is_invalid(token: str) -> None:
    assert refusal(token) == "invalid_token"
