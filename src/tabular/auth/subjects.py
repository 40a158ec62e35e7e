"""The subject model: a user's live identity, seen through one credential shape, becomes the `Principal`.

The API key backend, the policy check API, `tabular policy explain`, the policy test files and the matrix
all make their callers here, so a read-only or pinned key, or a session without its second factor, is the
same caller whichever of them asks.
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003 - a dataclass field
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID  # noqa: TC003

from tabular.auth.principal import AuthFailure
from tabular.vocabulary import CredentialKind

if TYPE_CHECKING:
    from tabular.auth.identities import Identity
    from tabular.auth.principal import Principal

PAID_TIER_REQUIRED = "API keys need a paid tier (pro, team or organisation)."


@dataclass(frozen=True, slots=True)
class CredentialShape:
    """How a subject calls: a session (with or without the second factor) or an API key and its down-scope.

    `mfa_verified` None for a session means "as the user's sign-in gives it": with the second factor exactly
    when the user has one. A key is always second-factor verified (it is created from such a session).
    """

    kind: CredentialKind = CredentialKind.SESSION
    mfa_verified: bool | None = None
    read_only: bool = False
    pinned_workspace_id: UUID | None = None
    key_id: UUID | None = None

    @property
    def is_key(self) -> bool:
        """Whether this is an API key (real or imagined)."""
        return self.kind is CredentialKind.API_KEY

    def principal(self, identity: Identity, **scope: Any) -> Principal:  # noqa: ANN401
        """`identity` calling with this credential; `scope` adds what a live session carries (token id, expiry)."""
        if not self.is_key:
            verified = identity.mfa_enabled if self.mfa_verified is None else self.mfa_verified
            return identity.principal(CredentialKind.SESSION, mfa_verified=verified, **scope)
        return identity.principal(
            CredentialKind.API_KEY,
            mfa_verified=True,
            key_id=self.key_id,
            read_only=self.read_only,
            pinned_workspace_id=self.pinned_workspace_id,
            **scope,
        )

    def describe(self) -> str:
        """A few words for people: 'session', 'session without MFA', 'read-only key pinned to …'."""
        if not self.is_key:
            return "session without MFA" if self.mfa_verified is False else "session"
        words = ["read-only key" if self.read_only else "key"]
        if self.pinned_workspace_id is not None:
            words.append(f"pinned to {self.pinned_workspace_id}")
        return " ".join(words)


def key_refusal(
    identity: Identity | None,
    *,
    revoked_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> AuthFailure | None:
    """Why a key of `identity`'s (revoked or expiring as given) is not accepted now, or None when it is.

    In the backend's order: revoked, expired, owner gone or disabled, organization on the free tier.
    """
    if revoked_at is not None:
        return AuthFailure("api_key_revoked")
    if expires_at is not None and now is not None and expires_at <= now:
        return AuthFailure("api_key_expired")
    if identity is None or not identity.is_active:
        return AuthFailure("account_disabled")
    if not identity.tier.is_paid:  # API access is a paid feature: a key rests while the tier is free
        return AuthFailure("paid_tier_required", status=403, detail=PAID_TIER_REQUIRED)
    return None


def session_refusal(identity: Identity) -> AuthFailure | None:
    """Why a valid session token of `identity`'s is not accepted (the account is disabled), or None."""
    return None if identity.is_active else AuthFailure("account_disabled")
