"""The credential engine's parts, built once per application from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from tabular.auth.api_key_backend import ApiKeyBackend
from tabular.auth.at_rest import AtRest
from tabular.auth.backends import AuthBackend, Authenticator
from tabular.auth.identities import IdentityStore
from tabular.auth.key_usage import KeyUsage
from tabular.auth.revocations import RevocationStore
from tabular.auth.session_backend import SessionBackend, SessionTokens
from tabular.auth.tokens import TokenCodec
from tabular.settings import derive_key

CURSOR_LABEL: Final = b"tabular/list-cursor/v1"

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.ratelimit.window import Backend, Quota
    from tabular.settings import Settings


@dataclass(frozen=True, slots=True)
class AuthEngine:
    """The credential engine: token signing, identities, revocations, key use, backends, the MFA keys at rest.

    `limiter` and `password_attempts` count password attempts per account, as the rate limiter counts requests.
    """

    codec: TokenCodec
    tokens: SessionTokens
    identities: IdentityStore
    revocations: RevocationStore
    key_usage: KeyUsage
    authenticator: Authenticator
    limiter: Backend
    password_attempts: Quota
    at_rest: AtRest
    cursors: TokenCodec
    """Signs the positions of paged lists, with a key derived for that alone (a cursor is never a credential)."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        session_maker: Callable[[], AsyncSession],
        limiter: Backend,
        password_attempts: Quota,
    ) -> AuthEngine:
        """API keys are tried first (an explicit `X-API-Key` or `Bearer tp_…`), then sessions."""
        identities = IdentityStore(session_maker, ttl=settings.auth_cache_ttl)
        revocations = RevocationStore(session_maker, ttl=settings.auth_cache_ttl)
        key_usage = KeyUsage(session_maker)
        codec = TokenCodec(settings.secret_key)
        tokens = SessionTokens(codec)
        backends: list[AuthBackend] = [
            ApiKeyBackend(identities, key_usage),
            SessionBackend(tokens, identities, revocations),
        ]
        return cls(
            codec=codec,
            tokens=tokens,
            identities=identities,
            revocations=revocations,
            key_usage=key_usage,
            authenticator=Authenticator(backends),
            limiter=limiter,
            password_attempts=password_attempts,
            at_rest=AtRest.of(settings),
            cursors=TokenCodec(derive_key(settings.secret_key, CURSOR_LABEL)),
        )
