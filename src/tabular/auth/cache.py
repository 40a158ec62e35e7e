"""A small time-bounded cache, the seam that keeps a warm authenticated request off the database."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Final, Generic, TypeVar

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
