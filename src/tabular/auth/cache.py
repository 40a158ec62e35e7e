"""A small time-bounded cache, the seam that keeps a warm authenticated request off the database."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Final, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

K = TypeVar("K")
V = TypeVar("V")

_MISSING: Final = object()


class TtlCache(Generic[K, V]):
    """Entries live `ttl` seconds (so a change made elsewhere is seen within `ttl`); LRU beyond `max_size`.

    A `ttl` of 0 disables caching. Local changes call `invalidate` and are seen at once.
    """

    def __init__(self, ttl: float, max_size: int = 10_000) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The cached value, or None when absent or older than `ttl`."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if time.monotonic() - stored_at >= self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `ttl` seconds."""
        if self.ttl <= 0:
            return
        self._entries[key] = (time.monotonic(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def invalidate(self, key: K) -> None:
        """Forget `key` now (a change made in this process)."""
        self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()


class SingleFlight(Generic[K, V]):
    """Concurrent loads of one key share one: the first caller loads, the others wait for its answer.

    When a cached entry expires under load, every request in flight for it would otherwise run the same
    queries at once (a thundering herd of 32 connections x 3 queries, seen as a p99 spike each `ttl`).
    """

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Future[V]] = {}

    async def run(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """`load()`'s answer for `key`, shared with every caller that asks while it runs."""
        if (running := self._running.get(key)) is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            value = await load()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: a load nobody else waited for must not warn
            raise
        finally:
            del self._running[key]
        future.set_result(value)
        return value
