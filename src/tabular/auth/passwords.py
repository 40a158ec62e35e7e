"""argon2id behind hash / verify / needs_rehash, run off the event loop."""

from __future__ import annotations

from typing import Final

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["DUMMY_HASH", "hash_password", "needs_rehash", "verify_password"]

_hasher: Final = PasswordHasher()  # argon2id, RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4

DUMMY_HASH: Final = _hasher.hash("tabular: no such user")
"""Verified against when the email is unknown, so both failures cost the same time."""


async def hash_password(password: str) -> str:
    """The argon2id encoded hash of `password`."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(encoded: str | None, password: str) -> bool:
    """Whether `password` matches; a missing or malformed hash is a mismatch that costs as much as a real one."""
    return await anyio.to_thread.run_sync(_verify, encoded or DUMMY_HASH, password, encoded is not None)


def needs_rehash(encoded: str) -> bool:
    """Whether the hash was made with parameters other than today's."""
    return _hasher.check_needs_rehash(encoded)


def _verify(encoded: str, password: str, real: bool) -> bool:  # noqa: FBT001
    try:
        return _hasher.verify(encoded, password) and real
    except (VerificationError, InvalidHashError):
        return False
