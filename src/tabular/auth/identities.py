"""Live identity data behind every credential, cached for at most `ttl` so changes reach all workers fast."""

from __future__ import annotations

import datetime as dt  # noqa: TC003 - `wire` (msgspec) reads the dataclasses' annotations at runtime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID  # noqa: TC003

from sqlalchemy import event, select

from tabular.auth.cache import SingleFlight, TtlCache
from tabular.auth.principal import Principal
from tabular.db import ApiKey, Organization, Tier, User, WorkspaceMembership
from tabular.schemas.common import wire
from tabular.vocabulary import Role  # noqa: TC001

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from sqlalchemy import ColumnElement
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from tabular.vocabulary import CredentialKind


@dataclass(frozen=True, slots=True)
class Identity:
    """What the engine needs to know about a user, as of at most `ttl` seconds ago."""

    user_id: UUID
    organization_id: UUID
    role: Role
    workspace_ids: frozenset[UUID]
    is_active: bool
    token_version: int
    mfa_enabled: bool
    tier: Tier
    name: str
    email: str
    organization_name: str
    """Who-am-I shows these: carried here so that a warm `GET /api/auth` reads no row."""

    def principal(self, credential: CredentialKind, *, mfa_verified: bool, **scope: Any) -> Principal:  # noqa: ANN401
        """The one way a caller is made: this user's current role and memberships, as `credential`.

        `scope` carries what the credential adds: a key's id and down-scope, a session's token id and expiry.
        """
        return Principal(  # not `wire`: this runs on every request, and a constructor is ten times faster
            user_id=self.user_id,
            organization_id=self.organization_id,
            role=self.role,
            workspace_ids=self.workspace_ids,
            credential=credential,
            mfa_enabled=self.mfa_enabled,
            mfa_verified=mfa_verified,
            **scope,
        )


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """An API key row, without anything secret."""

    id: UUID
    key_hash: str
    user_id: UUID
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    read_only: bool
    workspace_id: UUID | None


class IdentityStore:
    """Loads identities and keys on a cache miss, in a session of its own (the request has none yet)."""

    def __init__(self, session_maker: Callable[[], AsyncSession], ttl: float) -> None:
        self._session_maker = session_maker
        self._identities: TtlCache[UUID, Identity] = TtlCache(ttl)
        self._keys: TtlCache[str, KeyRecord] = TtlCache(ttl)
        self._loading_identities: SingleFlight[UUID, Identity | None] = SingleFlight()
        self._loading_keys: SingleFlight[str, KeyRecord | None] = SingleFlight()

    async def identity(self, user_id: UUID) -> Identity | None:
        """The user's live role, memberships and state; None when the user is gone."""
        if (cached := self._identities.get(user_id)) is not None:
            return cached
        return await self._loading_identities.run(user_id, lambda: self._load_identity(user_id))

    async def key_by_hash(self, key_hash: str) -> KeyRecord | None:
        """The key with this hash, found through the unique index."""
        if (cached := self._keys.get(key_hash)) is not None:
            return cached
        return await self._loading_keys.run(key_hash, lambda: self._load_key(key_hash))

    async def _load_identity(self, user_id: UUID) -> Identity | None:
        async with self._session_maker() as session:
            identity = await load_identity(session, User.id == user_id)
        if identity is not None:
            self._identities.put(user_id, identity)
        return identity

    async def _load_key(self, key_hash: str) -> KeyRecord | None:
        async with self._session_maker() as session:
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
        if key is None:
            return None
        record = wire(KeyRecord, key)
        self._keys.put(key_hash, record)
        return record

    def forget_on_commit(
        self, session: AsyncSession, *, user_ids: Iterable[UUID] = (), key_hashes: Iterable[str] = ()
    ) -> None:
        """Forget users and keys now, and again when `session`'s transaction commits.

        Forgetting only now leaves a window: a request arriving before the commit reloads the old row and
        caches it for `ttl`. Forgetting again after the commit closes it (a savepoint, such as the audit
        append, is not the commit).
        """
        users, keys = tuple(user_ids), tuple(key_hashes)

        def forget() -> None:
            for user_id in users:
                self.forget_user(user_id)
            for key_hash in keys:
                self.forget_key(key_hash)

        def after_commit(sync_session: Session) -> None:
            if not sync_session.in_nested_transaction():
                forget()

        forget()
        event.listen(session.sync_session, "after_commit", after_commit)

    def forget_user(self, user_id: UUID) -> None:
        """A change to the user made here: the next request sees it."""
        self._identities.invalidate(user_id)

    def forget_key(self, key_hash: str) -> None:
        """A change to the key made here: the next request sees it."""
        self._keys.invalidate(key_hash)


async def load_identity(session: AsyncSession, which: ColumnElement[bool]) -> Identity | None:
    """The identity of the user `which` selects (by id, or by email for `tabular policy explain`), from the rows."""
    row = (
        await session.execute(
            select(User, Organization.tier, Organization.name)
            .join(Organization, Organization.id == User.organization_id)
            .where(which)
        )
    ).one_or_none()
    if row is None:
        return None
    user, tier, organization_name = row
    memberships = await session.scalars(
        select(WorkspaceMembership.workspace_id).where(WorkspaceMembership.user_id == user.id)
    )
    return wire(
        Identity,
        user,
        user_id=user.id,
        workspace_ids=frozenset(memberships),
        tier=tier,
        organization_name=organization_name,
    )
