"""TOTP second factor (RFC 6238 via pyotp) with replay protection, and single-use recovery codes.

How both are stored (sealed, keyed) is `at_rest`'s business; this module deals in the clear values.
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Final

import pyotp

ISSUER: Final = "Tabular"
STEP_SECONDS: Final = 30
DRIFT_STEPS: Final = 1
"""Accept the previous and next 30-second step too, for clock drift."""
RECOVERY_CODE_COUNT: Final = 10
RECOVERY_ALPHABET: Final = "abcdefghjkmnpqrstuvwxyz23456789"  # 31 symbols, no look-alikes (0/o, 1/l/i)
RECOVERY_GROUPS: Final = 4
RECOVERY_GROUP_LENGTH: Final = 4
RECOVERY_CODE_BITS: Final = RECOVERY_GROUPS * RECOVERY_GROUP_LENGTH * math.log2(len(RECOVERY_ALPHABET))
"""16 symbols of 31: 79.3 bits a code (the three groups of four before 0004 had 59.5)."""


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, account: str) -> str:
    """The `otpauth://` URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def matching_step(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """The time step `code` is valid for, if it is later than `last_step`; None otherwise.

    Storing the returned step and passing it back as `last_step` makes every code single-use, and also
    refuses a code from an earlier step once a later one was accepted.
    """
    code = code.strip().replace(" ", "")
    # ASCII only: `isdigit` also passes other scripts' digits, which `compare_digest` refuses with a TypeError.
    if len(code) != 6 or not (code.isascii() and code.isdigit()):  # noqa: PLR2004
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if (last_step is None or step > last_step) and secrets.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like `k7mp-2xqa-hv9c-3dfe` (`RECOVERY_CODE_BITS`, 79.3 bits each), shown once."""
    return ["-".join(_group() for _ in range(RECOVERY_GROUPS)) for _ in range(RECOVERY_CODE_COUNT)]


def _group() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
