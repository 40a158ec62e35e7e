"""Signed-out session tokens, kept in the database until their token would have expired anyway.

The database is the only record, on purpose: a revocation kept in Redis could be lost to an outage or
an eviction and bring a signed-out token back to life. The check is cached (a "not revoked" answer for
`ttl` seconds), so a warm request still makes no round trip; a revocation made in this process is seen
at once, one made in another worker within `ttl`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from tabular.auth.cache import TtlCache
from tabular.db import RevokedToken
from tabular.db.base import utcnow

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from sqlalchemy.ext.asyncio import AsyncSession


class RevocationStore:
    """Records and answers "was this session token signed out?"."""

    def __init__(self, session_maker: Callable[[], AsyncSession], ttl: float) -> None:
        self._session_maker = session_maker
        self._not_revoked: TtlCache[str, bool] = TtlCache(ttl)
        self._revoked_here: TtlCache[str, bool] = TtlCache(ttl)
        """Tokens this process revoked, for as long as a stale "not revoked" answer could be cached."""

    async def revoke(self, token_id: str, expires_at: dt.datetime) -> None:
        """Refuse the token from now on (and purge revocations of tokens that have expired).

        A check of the same token that read the database just before the revocation was written may still
        cache "not revoked" after it; `_revoked_here` outranks that answer until it would have expired.
        """
        self._revoked_here.put(token_id, value=True)
        self._not_revoked.invalidate(token_id)
        async with self._session_maker() as session, session.begin():
            await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            session.add(RevokedToken(jti=token_id, expires_at=expires_at))

    async def is_revoked(self, token_id: str) -> bool:
        """Whether the token was signed out."""
        if self._revoked_here.get(token_id):
            return True
        if self._not_revoked.get(token_id):
            return False
        async with self._session_maker() as session:
            revoked = await session.scalar(select(RevokedToken.id).where(RevokedToken.jti == token_id)) is not None
        if not revoked:
            self._not_revoked.put(token_id, value=True)
        return revoked
