"""An API key's last use, recorded off the request path: noted in memory, written in one UPDATE shortly after.

A read request does not write. Authentication only notes the key (a dictionary insert, at most once a
minute per key); a background task writes every key noted in the last `delay` seconds in one statement,
and the application's shutdown writes what is left, so no use is lost to a restart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from tabular.auth.cache import TtlCache
from tabular.db import ApiKey
from tabular.db.base import utcnow
from tabular.db.outage import DatabaseUnavailable

if TYPE_CHECKING:
    from collections.abc import Callable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

LAST_USED_INTERVAL: Final = dt.timedelta(minutes=1)
"""`last_used_at` is written at most this often per key (per process, and in SQL across processes)."""
logger = logging.getLogger(__name__)


class KeyUsage:
    """Coalesces "this key was used" into one write per `delay`; bookkeeping never fails a request."""

    def __init__(self, session_maker: Callable[[], AsyncSession], delay: float = 1.0) -> None:
        self._session_maker = session_maker
        self._delay = delay
        self._noted: TtlCache[UUID, bool] = TtlCache(LAST_USED_INTERVAL.total_seconds())
        self._pending: dict[UUID, dt.datetime] = {}
        self._writer: asyncio.Task[None] | None = None
        self._waiting = False
        """Whether the writer is still sleeping (cancelled at shutdown) rather than writing (waited for)."""

    def note(self, key_id: UUID) -> None:
        """The key was used now; written within `delay` seconds unless noted in the last minute."""
        if self._noted.get(key_id):
            return
        self._noted.put(key_id, value=True)
        self._pending[key_id] = utcnow()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_later())

    async def flush(self) -> None:
        """Write every noted use now; a failed write is logged, and the keys are noted again on next use."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        now = max(pending.values())
        try:
            async with self._session_maker() as session, session.begin():
                await session.execute(
                    update(ApiKey)
                    .where(ApiKey.id.in_(pending))
                    .where(ApiKey.last_used_at.is_(None) | (ApiKey.last_used_at < now - LAST_USED_INTERVAL))
                    .values(last_used_at=now, updated_at=ApiKey.updated_at)  # a use is not a change to the key
                    .execution_options(synchronize_session=False)
                )
        except (SQLAlchemyError, DatabaseUnavailable) as error:
            if not isinstance(error, DatabaseUnavailable):  # an outage is said once, by the engine (`db.outage`)
                logger.warning("could not record the use of %d API keys", len(pending), exc_info=True)
            for key_id in pending:
                self._noted.invalidate(key_id)

    @property
    def settled(self) -> bool:
        """Whether every noted use is written (or given up on): nothing pending, no write under way."""
        return not self._pending and (self._writer is None or self._writer.done())

    async def close(self) -> None:
        """At shutdown: stop a writer still waiting, let one that is writing finish, then write what is left.

        A write cut off mid-statement would lose the uses it had taken and could leave its connection open.
        """
        writer = self._writer
        if writer is not None and not writer.done():
            if self._waiting:
                writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        await self.flush()

    async def _write_later(self) -> None:
        self._waiting = True
        try:
            await asyncio.sleep(self._delay)
        finally:
            self._waiting = False
        await self.flush()
