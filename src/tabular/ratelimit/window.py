"""Sliding-window rate limiting that never admits more than the limit in any window of its length.

The window of W seconds is cut into N = 60 buckets of b = W/N. A request at time t is admitted when the
requests admitted in the N + 1 buckets ending with t's bucket number fewer than the limit L. Those
buckets reach back at least W before t, so, taking the last request admitted in any W-long window,
everything admitted in that window was counted when it was admitted: at most L - 1 others, so at most
L in all. The price is caution, not excess: the look-back is between W and W + b (for 1000/15m, up
to 15 seconds longer), and a client keeps at most N + 1 small counters, not a timestamp per request.

Two backends share these semantics: `InProcessBackend` (the default, one process) and `RedisBackend`
(one atomic Lua script per request on the Redis server's clock, exact across processes).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, NamedTuple, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from tabular.settings import RateSpec

BUCKETS: Final = 60
MICROS: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class Quota:
    """A named limit: at most `limit` requests in any `window` seconds."""

    name: str
    limit: int
    window: int

    @classmethod
    def of(cls, name: str, spec: RateSpec) -> Quota:
        """The quota called `name` for a configured rate."""
        return cls(name=name, limit=spec.limit, window=spec.window)

    @property
    def window_us(self) -> int:
        """The window in microseconds."""
        return self.window * MICROS

    @property
    def bucket_us(self) -> int:
        """One bucket's length in microseconds."""
        return max(1, self.window_us // BUCKETS)

    @property
    def lookback(self) -> int:
        """How many buckets before the current one still count (N)."""
        return self.window_us // self.bucket_us


@dataclass(frozen=True, slots=True)
class Allowance:
    """One quota's answer for one request."""

    quota: Quota
    allowed: bool
    remaining: int
    reset: int
    """Whole seconds until the count drops (a slot frees); at least 1, never an epoch."""


class Hit(NamedTuple):
    """One request to count under `quota` for `subject` (a user or a client IP).

    A named tuple: made on every request, and cheaper to build than a frozen dataclass.
    """

    quota: Quota
    subject: str

    @property
    def key(self) -> str:
        """The storage key; quotas never share state."""
        return f"tabular:rl:{self.quota.name}:{self.subject}"


class Backend(Protocol):
    """Counts hits and decides, atomically per hit."""

    async def hit(self, hits: Sequence[Hit]) -> list[Allowance]:
        """Decide every hit of one request, in one round trip where there is one."""
        ...


def admit(buckets: dict[int, int], quota: Quota, now_us: int) -> Allowance:
    """The algorithm itself (the Lua script mirrors it line by line); updates `buckets` in place."""
    current = now_us // quota.bucket_us
    oldest = current - quota.lookback
    for index in [index for index in buckets if index < oldest]:
        del buckets[index]
    count = sum(buckets.values())
    allowed = count < quota.limit
    if allowed:
        buckets[current] = buckets.get(current, 0) + 1
        count += 1
    frees_at_us = (min(buckets, default=current) + quota.lookback + 1) * quota.bucket_us
    return Allowance(
        quota=quota,
        allowed=allowed,
        remaining=max(0, quota.limit - count),
        reset=max(1, math.ceil((frees_at_us - now_us) / MICROS)),
    )


class InProcessBackend:
    """Counters in this process's memory; idle clients are dropped once their window has passed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._clients: OrderedDict[str, tuple[int, dict[int, int]]] = OrderedDict()
        """key -> (when its counters are all stale, in µs; buckets), least recently hit first."""

    async def hit(self, hits: Sequence[Hit]) -> list[Allowance]:
        """Decide each hit against this process's counters."""
        now_us = int(self._clock() * MICROS)
        allowances = []
        for item in hits:
            _, buckets = self._clients.pop(item.key, (0, {}))
            allowances.append(admit(buckets, item.quota, now_us))
            self._clients[item.key] = (now_us + item.quota.window_us + item.quota.bucket_us, buckets)
        self._evict(now_us)
        return allowances

    def _evict(self, now_us: int) -> None:
        """Drop stale clients from the least recently hit end; O(1) amortised per request."""
        while self._clients:
            key, (stale_at_us, _) = next(iter(self._clients.items()))
            if now_us < stale_at_us:
                return
            del self._clients[key]

    @property
    def tracked(self) -> int:
        """How many clients have live counters."""
        return len(self._clients)
