"""argon2id behind hash / verify / salted_with, run off the event loop in a small pool of its own.

One argon2 call is a few hundred milliseconds of one core and 64 MiB. On a shared thread pool (anyio's
allows 40), a burst of logins would take every core and gigabytes from the requests that need neither;
here they queue for `ARGON2_THREADS` threads (one core fewer than the process may use, at least one),
running at a lower priority, so the event loop keeps the CPU it needs and other requests their latency.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from tabular.telemetry import ARGON2_SECONDS

if TYPE_CHECKING:
    from tabular.settings import Settings

__all__ = [
    "argon2_runs",
    "hash_password",
    "hasher",
    "salted_with",
    "verify_password",
]

DEFAULT_HASHER: Final = PasswordHasher()  # argon2id, RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4
ARGON2_THREADS: Final = max(1, len(os.sched_getaffinity(0)) - 1)
ARGON2_NICENESS: Final = 10


def _yield_to_requests() -> None:
    """Run this pool's threads at a lower priority than the event loop (Linux schedules threads by niceness).

    Where the process has one core, or every core is busy, a login then waits for the CPU rather than the
    requests that need no argon2: logins are slow on purpose, the rest of the API is not.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICENESS)


_pool: Final = ThreadPoolExecutor(
    max_workers=ARGON2_THREADS, thread_name_prefix="argon2", initializer=_yield_to_requests
)


def hasher(settings: Settings) -> PasswordHasher:
    """argon2id with the costs `settings` name (`TABULAR_ARGON2_*`; four lanes, as argon2-cffi's default)."""
    return PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib)


async def hash_password(password: str, salt: bytes | None = None, *, using: PasswordHasher) -> str:
    """The argon2id encoded hash of `password` at `using`'s costs; the same string each time with `salt`.

    `using` has no default (it is the settings' hasher, `AtRest.password_hasher`), so no caller can forget the
    configured costs; without `salt` the salt is random.
    """
    return await asyncio.get_running_loop().run_in_executor(_pool, _hash, using, password, salt)


def salted_with(encoded: str, salt: bytes, *, using: PasswordHasher) -> bool:
    """Whether `encoded` was made with `using`'s parameters and `salt`: what `hash_password(…, salt)` makes."""
    if using.check_needs_rehash(encoded):
        return False
    return encoded.rpartition("$")[0].endswith("$" + base64.b64encode(salt).decode().rstrip("="))


async def verify_password(encoded: str, password: str) -> bool:
    """Whether `password` matches `encoded`; a malformed hash is a mismatch.

    Sign-in needs no dummy hash for an unknown email: `PasswordService.matching` hashes the typed password
    under the email's keyed salt whether any account has the email or not.
    """
    return await asyncio.get_running_loop().run_in_executor(_pool, _verify, encoded, password)


def argon2_runs() -> int:
    """How many argon2 computations this process made: sign-in's cost is counted, not timed, by its tests."""
    return _runs[0]


_runs = [0]


def _hash(using: PasswordHasher, password: str, salt: bytes | None) -> str:
    _runs[0] += 1
    with ARGON2_SECONDS.time():
        return using.hash(password, salt=salt)


def _verify(encoded: str, password: str) -> bool:
    _runs[0] += 1
    try:
        with ARGON2_SECONDS.time():
            return DEFAULT_HASHER.verify(encoded, password)  # the encoded hash names its own parameters
    except (VerificationError, InvalidHashError):
        return False
