"""API keys: `tp_` + 48 characters from a CSPRNG, SHA-256 at rest, sent as `X-API-Key` or Bearer."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from tabular.auth.backends import InvalidCredential, bearer_token
from tabular.auth.principal import AuthFailure
from tabular.auth.subjects import CredentialShape, key_refusal
from tabular.db.base import utcnow
from tabular.vocabulary import CredentialKind

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection

    from tabular.auth.identities import IdentityStore, KeyRecord
    from tabular.auth.key_usage import KeyUsage
    from tabular.auth.principal import Principal

KEY_PREFIX: Final = "tp_"
KEY_BODY_LENGTH: Final = 48
DISPLAY_PREFIX_LENGTH: Final = 10
"""`tp_` and the first 7 characters: enough to recognise a key in a list, far too few to guess it."""

_ALPHABET: Final = string.ascii_letters + string.digits
_KEY_PATTERN: Final = re.compile(rf"^{KEY_PREFIX}[A-Za-z0-9]{{{KEY_BODY_LENGTH}}}$")


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly generated key: `secret` is shown once and never stored."""

    secret: str
    key_hash: str
    prefix: str


def generate_key() -> NewKey:
    """A new random key (285 bits of entropy) with its hash and display prefix."""
    secret = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_BODY_LENGTH))
    return NewKey(secret=secret, key_hash=hash_key(secret), prefix=secret[:DISPLAY_PREFIX_LENGTH])


def hash_key(secret: str) -> str:
    """Hex SHA-256: keys are long random strings, so a fast hash is safe and lookup stays O(1)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_key(value: str) -> bool:
    """Whether `value` has the exact shape of a key."""
    return _KEY_PATTERN.fullmatch(value) is not None


class ApiKeyBackend:
    """Authenticates `X-API-Key: tp_…` or `Authorization: Bearer tp_…`; the key acts as its creator, live."""

    name = "api_key"

    def __init__(self, identities: IdentityStore, key_usage: KeyUsage) -> None:
        self.identities = identities
        self.key_usage = key_usage

    async def authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
        """Resolve the key to its creator's current role and memberships, narrowed by the key's down-scope."""
        secret = connection.headers.get("x-api-key")
        if secret is None:
            token = bearer_token(connection)
            secret = token if token is not None and token.startswith(KEY_PREFIX) else None
        if secret is None:
            return None
        if not looks_like_key(secret):
            raise InvalidCredential("invalid_api_key")
        key_hash = hash_key(secret)
        record = await self.identities.key_by_hash(key_hash)
        if record is None or not hmac.compare_digest(record.key_hash, key_hash):
            raise InvalidCredential("invalid_api_key")
        identity = await self.identities.identity(record.user_id)
        refusal = key_refusal(identity, revoked_at=record.revoked_at, expires_at=record.expires_at, now=utcnow())
        if refusal is not None or identity is None:
            failure = refusal or AuthFailure("account_disabled")
            raise InvalidCredential(failure.code, status=failure.status, detail=failure.detail)
        self.key_usage.note(record.id)
        return shape_of(record).principal(identity)


def shape_of(record: KeyRecord) -> CredentialShape:
    """The credential a key row is: its id and down-scope."""
    return CredentialShape(
        CredentialKind.API_KEY,
        key_id=record.id,
        read_only=record.read_only,
        pinned_workspace_id=record.workspace_id,
    )
