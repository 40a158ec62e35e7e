"""TtlCache: expiry after `ttl`, the LRU bound, invalidation, `ttl` 0 turning caching off; SingleFlight.

The clock is the cache module's own `time.monotonic`, replaced by one the test moves by hand.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from tabular.auth import cache
from tabular.auth.cache import SingleFlight, TtlCache


class Clock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cache, "time", SimpleNamespace(monotonic=fake))
    return fake


def filled(ttl: float = 10.0, max_size: int = 100, keys: str = "") -> TtlCache[str, str]:
    """A cache holding `key -> key.upper()` for each character of `keys`, put in that order."""
    store: TtlCache[str, str] = TtlCache(ttl, max_size=max_size)
    for key in keys:
        store.put(key, key.upper())
    return store


def present(store: TtlCache[str, str], keys: str) -> str:
    """Which of `keys` the cache still answers (note: `get` counts as a use for the LRU order)."""
    return "".join(key for key in keys if store.get(key) is not None)


def test_an_entry_is_served_until_ttl_has_passed(clock: Clock) -> None:
    store = filled(ttl=10.0, keys="a")
    assert store.get("a") == "A"
    clock.advance(9.99)
    assert store.get("a") == "A"
    clock.advance(0.01)
    assert store.get("a") is None


def test_an_expired_entry_stays_gone(clock: Clock) -> None:
    store = filled(ttl=10.0, keys="a")
    clock.advance(11)
    assert store.get("a") is None
    clock.advance(-11)  # even if the clock could go back, the entry was dropped
    assert store.get("a") is None


def test_reading_does_not_extend_the_lifetime(clock: Clock) -> None:
    store = filled(ttl=10.0, keys="a")
    for _ in range(3):
        clock.advance(3)
        assert store.get("a") == "A"
    clock.advance(1)
    assert store.get("a") is None


def test_putting_again_restarts_the_lifetime_with_the_new_value(clock: Clock) -> None:
    store = filled(ttl=10.0, keys="a")
    clock.advance(8)
    store.put("a", "new")
    clock.advance(8)
    assert store.get("a") == "new"
    clock.advance(2)
    assert store.get("a") is None


def test_entries_expire_independently(clock: Clock) -> None:
    store = filled(ttl=10.0, keys="a")
    clock.advance(5)
    store.put("b", "B")
    clock.advance(5)
    assert present(store, "ab") == "b"


def test_an_absent_key_is_none() -> None:
    assert filled(keys="a").get("z") is None


@pytest.mark.usefixtures("clock")
def test_the_least_recently_put_entry_goes_beyond_max_size() -> None:
    store = filled(max_size=3, keys="abcd")
    assert present(store, "abcd") == "bcd"


@pytest.mark.usefixtures("clock")
def test_reading_an_entry_protects_it_from_eviction() -> None:
    store = filled(max_size=3, keys="abc")
    assert store.get("a") == "A"
    store.put("d", "D")
    assert present(store, "abcd") == "acd"


@pytest.mark.usefixtures("clock")
def test_putting_an_existing_key_again_evicts_nothing_and_refreshes_its_order() -> None:
    store = filled(max_size=3, keys="abc")
    store.put("a", "A2")  # order now b, c, a
    store.put("d", "D")
    assert store.get("b") is None
    assert (store.get("a"), store.get("c"), store.get("d")) == ("A2", "C", "D")


@pytest.mark.usefixtures("clock")
def test_the_bound_holds_for_many_entries() -> None:
    store = filled(max_size=5, keys="abcdefghijklmnopqrstuvwxyz")
    assert present(store, "abcdefghijklmnopqrstuvwxyz") == "vwxyz"


@pytest.mark.usefixtures("clock")
def test_invalidate_forgets_only_that_key() -> None:
    store = filled(keys="ab")
    store.invalidate("a")
    assert present(store, "ab") == "b"
    store.invalidate("a")  # already gone: no error
    store.invalidate("never-there")
    store.put("a", "again")
    assert store.get("a") == "again"


@pytest.mark.usefixtures("clock")
def test_clear_forgets_everything() -> None:
    store = filled(keys="abc")
    store.clear()
    assert present(store, "abc") == ""


@pytest.mark.parametrize("ttl", [0.0, -1.0])
def test_a_ttl_of_zero_or_less_caches_nothing(clock: Clock, ttl: float) -> None:
    store = filled(ttl=ttl, keys="abc")
    assert present(store, "abc") == ""
    clock.advance(0)
    assert store.get("a") is None


@pytest.mark.anyio
async def test_concurrent_loads_of_one_key_run_once_and_share_the_answer() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = 0
    release = asyncio.Event()

    async def load() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    waiting = [asyncio.ensure_future(flight.run("user", load)) for _ in range(32)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [42] * 32
    assert calls == 1
    assert await flight.run("user", load) == 42  # the next miss loads again
    assert calls == 2


@pytest.mark.anyio
async def test_a_failed_load_fails_every_waiter_and_is_not_remembered() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    release = asyncio.Event()

    async def broken() -> int:
        await release.wait()
        raise ConnectionError("database away")

    waiting = [asyncio.ensure_future(flight.run("user", broken)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(result, ConnectionError) for result in results)

    async def fine() -> int:
        return 7

    assert await flight.run("user", fine) == 7
