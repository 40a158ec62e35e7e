"""`/api/auth/mfa/…` bodies."""

from __future__ import annotations

import msgspec

from tabular.schemas.common import Envelope
from tabular.schemas.rules import Input, OneTimeCode, RecentPassword


class MfaSetup(msgspec.Struct, frozen=True):
    """The new secret, shown this once, and the URI an authenticator app scans."""

    secret: str
    otpauth_uri: str


class MfaSetupResponse(Envelope, frozen=True):
    """Setup answer."""

    data: MfaSetup


class MfaCode(Input, frozen=True):
    """A code from the authenticator app (or, where allowed, a recovery code)."""

    code: OneTimeCode
    password: RecentPassword | None = None
    """Needed to confirm or disable MFA, or to renew recovery codes, unless the session signed in recently."""


class RecoveryCodes(msgspec.Struct, frozen=True):
    """Ten single-use codes, shown this once."""

    recovery_codes: list[str]


class RecoveryCodesResponse(Envelope, frozen=True):
    """Confirm / regenerate answer."""

    data: RecoveryCodes


class MfaState(msgspec.Struct, frozen=True):
    """Whether MFA is on."""

    mfa_enabled: bool


class MfaStateResponse(Envelope, frozen=True):
    """Disable answer."""

    data: MfaState
