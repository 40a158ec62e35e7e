"""The one answer every credential backend gives: who is calling, how, and what they may reach."""

from __future__ import annotations

import datetime as dt  # noqa: TC003 - msgspec evaluates these annotations when Litestar injects a Principal
from dataclasses import dataclass
from uuid import UUID  # noqa: TC003

from tabular.errors import Forbidden, Unauthorized
from tabular.vocabulary import CredentialKind, Reason, Role


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """An authenticated caller, resolved from live data on every request (never from the token alone).

    `role` and `workspace_ids` are the user's *current* ones; an API key's down-scope is kept apart
    (`read_only`, `pinned_workspace_id`) so the policy can intersect the two and say which one denied.
    """

    user_id: UUID
    organization_id: UUID
    role: Role
    workspace_ids: frozenset[UUID]
    credential: CredentialKind
    mfa_enabled: bool
    """The user has a confirmed second factor."""
    mfa_verified: bool
    """This credential was obtained with a second factor (a session signed in with a code, or any key)."""
    key_id: UUID | None = None
    read_only: bool = False
    pinned_workspace_id: UUID | None = None
    token_id: str | None = None
    token_expires_at: dt.datetime | None = None
    signed_in_at: dt.datetime | None = None
    """When a session's password was last proved; None for a key."""
    via_cookie: bool = False

    @property
    def is_session(self) -> bool:
        """Whether this is an interactive (JWT) session rather than an API key."""
        return self.credential is CredentialKind.SESSION

    @property
    def reachable_workspace_ids(self) -> frozenset[UUID]:
        """Memberships, narrowed to the pinned workspace for a pinned key."""
        if self.pinned_workspace_id is None:
            return self.workspace_ids
        return self.workspace_ids & {self.pinned_workspace_id}


@dataclass(frozen=True, slots=True)
class AuthFailure:
    """Why credentials that were presented were not accepted; the guard turns it into the response."""

    code: str
    status: int = 401
    detail: str = "The credentials are invalid, expired or revoked."
    """What the caller is told; the backend that refuses says it."""


def rejection(failure: AuthFailure | None) -> Unauthorized | Forbidden:
    """The error for a request without an acceptable credential: the refusing backend's status and words.

    The guard raises it on a protected route; `Actor.caller` raises the same one where a public route's
    step needs a caller after all (logging out), so both refuse alike.
    """
    if failure is None:
        return Unauthorized(Reason.UNAUTHENTICATED.message)
    error = Forbidden if failure.status == Forbidden.status_code else Unauthorized
    return error(failure.detail, code=failure.code)
