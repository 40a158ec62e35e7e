"""The one signed-token codec: HS256 JWTs with the app's secret, an audience per purpose, claims as a Struct.

A token for one purpose never passes for another (a set-password link is not a session, nor the reverse):
each is signed for its own `Audience` and read only for the audience asked. The claims decode strictly into
the purpose's Struct: no coercion (`"1"` or `true` is not a version), a missing claim is a refusal.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Final, TypeVar

import jwt
import msgspec

from tabular.db.base import utcnow

if TYPE_CHECKING:
    import datetime as dt

ISSUER: Final = "tabular"
ALGORITHM: Final = "HS256"
_REGISTERED: Final = ["exp", "iat", "iss", "aud"]

ClaimsT = TypeVar("ClaimsT", bound=msgspec.Struct)


class Audience(StrEnum):
    """What a token is for."""

    SESSION = "session"
    SET_PASSWORD = "set-password"  # noqa: S105 - a purpose, not a secret
    SECOND_FACTOR = "second-factor"
    """The sign-in page's proof that the password was right, carried to the step that asks for the code."""
    CURSOR = "cursor"
    """A position in a list (`?cursor=`), signed with a key of its own (`CURSOR_LABEL`), not the session key."""


class TokenError(Exception):
    """A token that is not valid for the purpose; `expired` when it was, once."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired token" if expired else "invalid token")
        self.expired = expired


class TokenCodec:
    """Signs and reads the app's tokens."""

    def __init__(self, secret: str | bytes) -> None:
        self._secret = secret

    def sign(self, audience: Audience, claims: msgspec.Struct, lifetime: dt.timedelta) -> tuple[str, dt.datetime]:
        """A token carrying `claims` for `audience`, valid for `lifetime` from now, and when it expires."""
        now = utcnow().replace(microsecond=0)
        expires_at = now + lifetime
        payload = msgspec.to_builtins(claims) | {"iss": ISSUER, "aud": audience.value, "iat": now, "exp": expires_at}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM), expires_at

    def read(self, token: str, audience: Audience, claims: type[ClaimsT]) -> ClaimsT:
        """The claims of a token valid for `audience`; `TokenError` otherwise."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=audience.value,
                issuer=ISSUER,
                options={"require": _REGISTERED},
            )
            return msgspec.convert(payload, claims)
        except jwt.ExpiredSignatureError:
            raise TokenError(expired=True) from None
        except (jwt.InvalidTokenError, msgspec.ValidationError):
            raise TokenError(expired=False) from None
