"""JWT sessions: issued by `POST /api/auth`, carried in the `auth_token` cookie or as a Bearer token."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Final
from uuid import UUID

import msgspec
from litestar import Request
from litestar.datastructures import Cookie

from tabular.auth.api_key_backend import KEY_PREFIX
from tabular.auth.backends import InvalidCredential, bearer_token
from tabular.auth.tokens import Audience, TokenCodec, TokenError
from tabular.vocabulary import CredentialKind

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from tabular.auth.identities import IdentityStore
    from tabular.auth.principal import Principal
    from tabular.auth.revocations import RevocationStore

SESSION_COOKIE: Final = "auth_token"
CSRF_COOKIE: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
CSRF_FIELD: Final = "csrf_token"
"""Where a page's form carries the same token: a form cannot set a header."""
FORM: Final = "application/x-www-form-urlencoded"
PENDING_COOKIE: Final = "sign_in_pending"
PENDING_LIFETIME: Final = dt.timedelta(minutes=5)
"""How long the sign-in page waits for the second factor after the password was right."""
SESSION_LIFETIME: Final = dt.timedelta(days=7)
REMEMBERED_LIFETIME: Final = dt.timedelta(days=30)
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_NEEDED: Final = "The session cookie needs the X-CSRF-Token header on this request."

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _SignInClaims(msgspec.Struct, frozen=True, kw_only=True):
    """What a session token and a pending sign-in both say: the user, at which version, this token's id, until when."""

    user_id: UUID = msgspec.field(name="sub")
    token_id: NonEmpty = msgspec.field(name="jti")
    version: int = msgspec.field(name="ver")
    """The user's `token_version` when signed in; a role change or new password bumps it."""
    signed_in: int = msgspec.field(name="auth_time", default=0)
    """Seconds since the epoch when the user last proved the password; kept across tokens of one sign-in."""
    exp: int = 0
    """Seconds since the epoch, set by the codec."""

    @property
    def expires_at(self) -> dt.datetime:
        """When the token stops working (or the pending sign-in lapses)."""
        return dt.datetime.fromtimestamp(self.exp, dt.UTC)

    @property
    def signed_in_at(self) -> dt.datetime:
        """When the password behind this sign-in was proved (the epoch for a token older than the claim)."""
        return dt.datetime.fromtimestamp(self.signed_in, dt.UTC)


class SessionClaims(_SignInClaims, frozen=True):
    """What a session token says, beyond the codec's issuer, audience and times."""

    mfa_verified: bool = msgspec.field(name="mfa")
    csrf: NonEmpty = msgspec.field(name="csrf")


class PendingClaims(_SignInClaims, frozen=True):
    """A sign-in whose password was right and whose second factor is still to come (the sign-in page's step 2)."""

    remember: bool = msgspec.field(name="rem")
    signed_in: int = msgspec.field(name="auth_time")
    """Required here: a pending sign-in was always issued with it."""


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """A new token and what the response needs to set it."""

    token: str
    claims: SessionClaims
    max_age: int


class SessionTokens:
    """Session tokens: the app's codec with the session audience."""

    def __init__(self, codec: TokenCodec) -> None:
        self._codec = codec

    def issue(
        self,
        user_id: UUID,
        version: int,
        *,
        mfa_verified: bool,
        remember: bool = False,
        signed_in_at: dt.datetime | None = None,
    ) -> IssuedSession:
        """A token for `user_id` at `version`; 30 days when remembered, 7 otherwise.

        `signed_in_at` is when the password was proved: now (a sign-in, a new password) unless a token is
        renewed for a session that proved it earlier.
        """
        lifetime = REMEMBERED_LIFETIME if remember else SESSION_LIFETIME
        signed_in = signed_in_at or dt.datetime.now(dt.UTC)
        claims = SessionClaims(
            user_id=user_id,
            token_id=uuid.uuid4().hex,
            version=version,
            mfa_verified=mfa_verified,
            csrf=secrets.token_urlsafe(32),
            signed_in=int(signed_in.timestamp()),
        )
        token, expires_at = self._codec.sign(Audience.SESSION, claims, lifetime)
        claims = msgspec.structs.replace(claims, exp=int(expires_at.timestamp()))
        return IssuedSession(token=token, claims=claims, max_age=int(lifetime.total_seconds()))

    def pending(self, user_id: UUID, version: int, *, remember: bool) -> str:
        """A short-lived token saying `user_id` proved the password now; only the second factor may follow it."""
        claims = PendingClaims(
            user_id=user_id,
            token_id=uuid.uuid4().hex,
            version=version,
            remember=remember,
            signed_in=int(dt.datetime.now(dt.UTC).timestamp()),
        )
        token, _ = self._codec.sign(Audience.SECOND_FACTOR, claims, PENDING_LIFETIME)
        return token

    def read_pending(self, token: str) -> PendingClaims:
        """The claims of a valid pending sign-in; `InvalidCredential` (`sign_in_expired`) otherwise."""
        try:
            return self._codec.read(token, Audience.SECOND_FACTOR, PendingClaims)
        except TokenError:
            raise InvalidCredential("sign_in_expired") from None

    def decode(self, token: str) -> SessionClaims:
        """The claims of a valid token; `InvalidCredential` (`session_expired`, `invalid_token`) otherwise."""
        try:
            return self._codec.read(token, Audience.SESSION, SessionClaims)
        except TokenError as error:
            raise InvalidCredential("session_expired" if error.expired else "invalid_token") from None


class SessionBackend:
    """Authenticates a session token from `Authorization: Bearer` or, failing that, the `auth_token` cookie.

    A cookie is sent by browsers on their own, so an unsafe method authenticated by it must also carry the
    session's CSRF token in `X-CSRF-Token` (double submit, bound to the token) or, from a page's form, in
    its `csrf_token` field; Bearer requests need not.
    """

    name = "session"

    def __init__(self, tokens: SessionTokens, identities: IdentityStore, revocations: RevocationStore) -> None:
        self.tokens = tokens
        self.identities = identities
        self.revocations = revocations

    async def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        """Verify signature and claims, then check revocation, token version and the user's state, live."""
        token = bearer_token(connection)
        via_cookie = token is None
        if token is None:
            token = connection.cookies.get(SESSION_COOKIE)
        if not token or token.startswith(KEY_PREFIX):
            return None
        claims = self.tokens.decode(token)
        if await self.revocations.is_revoked(claims.token_id):
            raise InvalidCredential("session_revoked")
        identity = await self.identities.identity(claims.user_id)
        if identity is None or claims.version != identity.token_version:
            raise InvalidCredential("session_revoked")
        if not identity.is_active:
            raise InvalidCredential("account_disabled")
        if via_cookie and connection.scope.get("method", "GET") not in SAFE_METHODS:
            sent = connection.headers.get(CSRF_HEADER) or await _form_token(connection)
            if not hmac.compare_digest(sent.encode(), claims.csrf.encode()):
                raise InvalidCredential("csrf_failed", status=403, detail=CSRF_NEEDED)
        return identity.principal(
            CredentialKind.SESSION,
            mfa_verified=claims.mfa_verified,
            token_id=claims.token_id,
            token_expires_at=claims.expires_at,
            signed_in_at=claims.signed_in_at,
            via_cookie=via_cookie,
        )


async def _form_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The `csrf_token` field of a form body (read once: the handler gets the parsed form from the scope)."""
    if connection.headers.get("content-type", "").partition(";")[0].strip().lower() != FORM:
        return ""
    value = (await Request(connection.scope, connection.receive).form()).get(CSRF_FIELD)
    return value if isinstance(value, str) else ""


def session_cookies(issued: IssuedSession, *, secure: bool) -> list[Cookie]:
    """The HttpOnly session cookie, and the CSRF token a browser app reads and echoes in `X-CSRF-Token`."""
    common = {"max_age": issued.max_age, "path": "/", "samesite": "lax", "secure": secure}
    return [
        Cookie(key=SESSION_COOKIE, value=issued.token, httponly=True, **common),  # type: ignore[arg-type]
        Cookie(key=CSRF_COOKIE, value=issued.claims.csrf, httponly=False, **common),  # type: ignore[arg-type]
    ]


def clear_session_cookies(*, secure: bool) -> list[Cookie]:
    """Expire both cookies in the browser."""
    return [
        Cookie(key=name, value="", max_age=0, path="/", samesite="lax", secure=secure, httponly=name == SESSION_COOKIE)
        for name in (SESSION_COOKIE, CSRF_COOKIE)
    ]
