"""Who a policy question is about: a user (by id or email) or an API key (by id), found in the database.

The check API, `tabular policy explain` and the matrix make the caller the same way the credential backends
do (`auth/subjects.py`): the user's live role and memberships, seen through a credential shape, and refused
for the same reasons (a revoked or expired key, a disabled account, a free tier) with the same codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, select, true
from sqlalchemy.exc import MultipleResultsFound

from tabular.auth.identities import load_identity
from tabular.auth.subjects import CredentialShape, key_refusal, session_refusal
from tabular.db import ApiKey, User
from tabular.db.base import utcnow
from tabular.schemas.rules import normalize_email
from tabular.vocabulary import CredentialKind

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.auth.principal import AuthFailure, Principal


class UnknownSubjectError(LookupError):
    """No such user or key (in the organization asked about); `field` names what was not found."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Who:
    """The subject as a question names it: exactly one of a user id, an email or an API key id."""

    user_id: UUID | None = None
    email: str | None = None
    api_key_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """A resolved subject: the caller the guard would see (or why its credential would be refused)."""

    caller: Principal | AuthFailure
    user_id: UUID
    email: str
    role: str
    shape: CredentialShape

    def describe(self) -> str:
        """'ana@example.test (member, read-only key)'."""
        return f"{self.email} ({self.role}, {self.shape.describe()})"


async def resolve(
    session: AsyncSession, who: Who, organization_id: UUID | None = None, shape: CredentialShape | None = None
) -> Subject:
    """The subject `who` names, inside `organization_id` when given; `shape` imagines a credential for a user.

    A key named by id is the key as it is (its down-scope, revocation and expiry); `shape` does not apply.
    """
    in_organization = true() if organization_id is None else User.organization_id == organization_id
    if who.api_key_id is not None:
        found = (
            await session.execute(
                select(ApiKey).join(User, User.id == ApiKey.user_id).where(ApiKey.id == who.api_key_id, in_organization)
            )
        ).scalar_one_or_none()
        if found is None:
            raise UnknownSubjectError("api_key_id", f"no API key {who.api_key_id}")
        identity = await load_identity(session, User.id == found.user_id)
        if identity is None:  # pragma: no cover - a key's owner is never deleted (the foreign key holds it)
            raise UnknownSubjectError("api_key_id", f"no API key {who.api_key_id}")
        key_shape = CredentialShape(
            CredentialKind.API_KEY, key_id=found.id, read_only=found.read_only, pinned_workspace_id=found.workspace_id
        )
        refusal = key_refusal(identity, revoked_at=found.revoked_at, expires_at=found.expires_at, now=utcnow())
        return Subject(refusal or key_shape.principal(identity), identity.user_id, identity.email, identity.role,
                       key_shape)  # fmt: skip
    field, which = _user_clause(who)
    try:
        identity = await load_identity(session, and_(which, in_organization))
    except MultipleResultsFound:
        raise UnknownSubjectError(field, f"several organizations have a user with email {who.email!r}") from None
    if identity is None:
        named = f"email {who.email!r}" if who.user_id is None else f"id {who.user_id}"
        raise UnknownSubjectError(field, f"no user with {named}")
    shape = shape or CredentialShape()
    refusal = key_refusal(identity) if shape.is_key else session_refusal(identity)
    return Subject(refusal or shape.principal(identity), identity.user_id, identity.email, identity.role, shape)


def _user_clause(who: Who) -> tuple[str, ColumnElement[bool]]:
    if who.user_id is not None:
        return "user_id", User.id == who.user_id
    if who.email is not None:
        return "email", User.email == normalize_email(who.email)
    raise UnknownSubjectError("subject", "name a user_id, an email or an api_key_id")
