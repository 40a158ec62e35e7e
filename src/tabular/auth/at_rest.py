"""Credentials at rest: sealed TOTP secrets, keyed recovery codes, password salts, webhook secrets, argon2 costs.

TOTP secrets are sealed with AES-256-GCM (`SealingKey`, which also seals kept idempotent answers); recovery
codes are keyed with HMAC-SHA256.

The keys are derived from the server secret (`TABULAR_SECRET_KEY`) by HKDF-SHA256 with a label per purpose,
so a copy of the database alone gives neither a TOTP secret nor an offline test of a guessed recovery code,
and no key is the JWT signing key; a password's argon2 salt is keyed by its email (see `password_salt`).
A stored value names its format (`v1:…`); a value without a prefix was written before migration 0004 (a
TOTP secret in the clear, a bare SHA-256 of a recovery code) and is still read, so an upgrade locks nobody
out: `MfaService` seals such values on the user's next check, and `tabular serve` seals every one left
when it starts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tabular.auth.passwords import DEFAULT_HASHER, hasher
from tabular.settings import derive_key

if TYPE_CHECKING:
    from uuid import UUID

    from argon2 import PasswordHasher

    from tabular.settings import Settings

TOTP_SECRET_LABEL: Final = b"tabular/totp-secret/v1"
RECOVERY_CODE_LABEL: Final = b"tabular/recovery-code/v1"
PASSWORD_SALT_LABEL: Final = b"tabular/password-salt/v1"
WEBHOOK_SECRET_LABEL: Final = b"tabular/webhook-secret/v1"
WEBHOOK_SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - the Standard Webhooks prefix, not a secret
PASSWORD_SALT_BYTES: Final = 16
CURRENT: Final = "v1:"
"""Prefix of what this version stores: a sealed TOTP secret (base64url of nonce ‖ ciphertext ‖ tag), the HMAC
of a recovery code (hex)."""
KEYED_LEGACY: Final = "v0:"
"""Prefix of a recovery code stored before 0004: the HMAC of its old SHA-256 hex digest."""
_NONCE_BYTES: Final = 12


class SealingKey:
    """AES-256-GCM under a key derived from the server secret for one purpose (its label).

    What it seals is nonce ‖ ciphertext ‖ tag, bound to `bound` (associated data): it opens only with the
    same server secret, the same label and the same binding. The one sealing primitive of the code base: TOTP
    secrets here, kept idempotent answers in `idempotency.stores`.
    """

    __slots__ = ("_aead", "_label")

    def __init__(self, server_secret: str, label: bytes) -> None:
        self._aead = AESGCM(derive_key(server_secret, label))
        self._label = label

    def seal(self, plain: bytes, *bound: bytes) -> bytes:
        """`plain` sealed under a fresh nonce, bound to the label and `bound`."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, self._binding(bound))

    def open(self, sealed: bytes, *bound: bytes) -> bytes | None:
        """What `seal` sealed with this binding, or None (another key or binding, or a damaged value)."""
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], self._binding(bound))
        except (InvalidTag, ValueError):
            return None

    def _binding(self, bound: tuple[bytes, ...]) -> bytes:
        return b"|".join((self._label, *bound))


class UnreadableSecret(Exception):
    """A sealed TOTP secret that this server's key does not open: another key sealed it, or the row was edited."""

    def __init__(self, owner: UUID) -> None:
        super().__init__(
            f"the TOTP secret of user {owner} does not open with this server's key: was TABULAR_SECRET_KEY changed? "
            "Restore the key it was sealed under, or turn the user's MFA off so they enrol again"
        )


def is_legacy(stored: str) -> bool:
    """Whether a stored value predates 0004: base32 secrets and hex digests never hold the prefix's colon."""
    return ":" not in stored


def normalise_recovery_code(code: str) -> str:
    """The code as typed back, minus what does not matter: case, dashes, spaces."""
    return code.strip().lower().replace("-", "").replace(" ", "")


class AtRest:
    """How the server stores secrets: the keys it derives once per process, and the password hash's costs."""

    __slots__ = ("_recovery_key", "_salt_key", "_totp", "_webhook_key", "password_hasher")

    def __init__(self, server_secret: str, password_hasher: PasswordHasher = DEFAULT_HASHER) -> None:
        self._totp = SealingKey(server_secret, TOTP_SECRET_LABEL)
        self._recovery_key = derive_key(server_secret, RECOVERY_CODE_LABEL)
        self._salt_key = derive_key(server_secret, PASSWORD_SALT_LABEL)
        self._webhook_key = derive_key(server_secret, WEBHOOK_SECRET_LABEL)
        self.password_hasher = password_hasher
        """argon2id with the configured costs: what new password hashes are made with."""

    @classmethod
    def of(cls, settings: Settings) -> AtRest:
        """The server's: keys from its secret, password hashes at its `TABULAR_ARGON2_*` costs."""
        return cls(settings.secret_key, hasher(settings))

    def webhook_secret(self, endpoint: UUID, salt: str) -> str:
        """The signing secret of a webhook endpoint (`whsec_` + base64 of 32 bytes), made again on each use.

        Derived from the server secret, the endpoint's id and its stored salt: the database alone does not hold
        it, and no two endpoints share one.
        """
        raw = hmac.new(self._webhook_key, endpoint.bytes + salt.encode(), hashlib.sha256).digest()
        return WEBHOOK_SECRET_PREFIX + base64.b64encode(raw).decode()

    def password_salt(self, email: str) -> bytes:
        """The argon2 salt of every password of accounts with `email` (normalised), in any organization.

        One salt per email lets sign-in hash a typed password once and compare it with each account of the
        email, so the time it takes says nothing about how many organizations have that email. Keyed with
        the server secret, so no one can precompute a table for an email without it.
        """
        return hmac.new(self._salt_key, email.encode(), hashlib.sha256).digest()[:PASSWORD_SALT_BYTES]

    def seal(self, secret: str, owner: UUID) -> str:
        """The stored form of `owner`'s TOTP secret; bound to the owner, so it opens in no other user's row."""
        return CURRENT + base64.urlsafe_b64encode(self._totp.seal(secret.encode(), owner.bytes)).decode()

    def open(self, stored: str, owner: UUID) -> str:
        """The TOTP secret in a stored value (one from before 0004 is the secret itself); `UnreadableSecret`."""
        if is_legacy(stored):
            return stored
        version, _, body = stored.partition(":")
        if f"{version}:" != CURRENT:
            raise UnreadableSecret(owner)
        try:
            plain = self._totp.open(base64.urlsafe_b64decode(body), owner.bytes)
        except ValueError:  # bad base64
            plain = None
        if plain is None:  # a bad tag, bad base64, a body too short
            raise UnreadableSecret(owner)
        return plain.decode()

    def recovery_hash(self, code: str) -> str:
        """The stored form of a recovery code."""
        return CURRENT + self._keyed(normalise_recovery_code(code).encode())

    def recovery_hashes(self, code: str) -> tuple[str, str]:
        """What a typed recovery code may be stored as: issued by this version, or before 0004 (keyed since)."""
        digest = hashlib.sha256(normalise_recovery_code(code).encode()).hexdigest()
        return self.recovery_hash(code), self.key_legacy_recovery_hash(digest)

    def key_legacy_recovery_hash(self, digest: str) -> str:
        """The stored form of a recovery code kept before 0004 as its bare SHA-256 hex digest."""
        return KEYED_LEGACY + self._keyed(digest.encode())

    def _keyed(self, message: bytes) -> str:
        return hmac.new(self._recovery_key, message, hashlib.sha256).hexdigest()
