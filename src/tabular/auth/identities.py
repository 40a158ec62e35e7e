"""Live identity data behind every credential, cached for at most `ttl` so changes reach all workers fast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import event, select

from tabular.auth.cache import SingleFlight, TtlCache
from tabular.db import ApiKey, Organization, Tier, User, WorkspaceMembership

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from tabular.vocabulary import Role


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
            row = (
                await session.execute(
                    select(User, Organization.tier, Organization.name)
                    .join(Organization, Organization.id == User.organization_id)
                    .where(User.id == user_id)
                )
            ).one_or_none()
            if row is None:
                return None
            user, tier, organization_name = row
            memberships = await session.scalars(
                select(WorkspaceMembership.workspace_id).where(WorkspaceMembership.user_id == user_id)
            )
            identity = Identity(
                user_id=user.id,
                organization_id=user.organization_id,
                role=user.role,
                workspace_ids=frozenset(memberships),
                is_active=user.is_active,
                token_version=user.token_version,
                mfa_enabled=user.mfa_enabled,
                tier=tier,
                name=user.name,
                email=user.email,
                organization_name=organization_name,
            )
        self._identities.put(user_id, identity)
        return identity

    async def _load_key(self, key_hash: str) -> KeyRecord | None:
        async with self._session_maker() as session:
            key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
        if key is None:
            return None
        record = KeyRecord(
            id=key.id,
            key_hash=key.key_hash,
            user_id=key.user_id,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            read_only=key.read_only,
            workspace_id=key.workspace_id,
        )
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
