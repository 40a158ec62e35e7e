"""The sliding window's semantics, checked identically on the in-process and the Redis backend.

Both backends take the same controlled clock here (the Redis script accepts "now" from tests, and reads
the server's clock otherwise), so every case replays the same timeline on each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from tabular.ratelimit.redis_backend import RedisBackend
from tabular.ratelimit.window import Allowance, Backend, Hit, InProcessBackend, Quota
from tests.support.servers import RedisServer

pytestmark = pytest.mark.anyio

T0 = 1_800_000_000.0  # a fixed epoch second, aligned to every bucket length used below


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["in_process", "redis"])
async def backend(request: pytest.FixtureRequest, clock: Clock) -> AsyncIterator[Backend]:
    if request.param == "in_process":
        yield InProcessBackend(clock=clock)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = Redis.from_url(server.url)
    await client.flushdb()
    yield RedisBackend(client, clock=clock)
    await client.aclose()


def hitter(backend: Backend, quota: Quota, subject: str = "ip:192.0.2.1") -> Callable[[], object]:
    async def hit() -> Allowance:
        return (await backend.hit([Hit(quota, subject)]))[0]

    return hit


async def test_admits_exactly_the_limit_then_refuses(backend: Backend) -> None:
    hit = hitter(backend, Quota("general", limit=5, window=60))
    allowances = [await hit() for _ in range(7)]
    assert [d.allowed for d in allowances] == [True] * 5 + [False] * 2
    assert [d.remaining for d in allowances] == [4, 3, 2, 1, 0, 0, 0]


async def test_reset_counts_down_to_the_oldest_request_leaving_the_window(backend: Backend, clock: Clock) -> None:
    quota = Quota("general", limit=2, window=60)  # 1-second buckets
    hit = hitter(backend, quota)
    first = await hit()
    assert first.reset == 61  # the look-back is the window plus the current bucket
    clock.now += 10
    await hit()
    clock.now += 0.5
    refused = await hit()
    assert not refused.allowed
    assert refused.reset == 51  # the first request's bucket leaves 61 s after it, 10.5 s have passed
    assert refused.reset >= 1


async def test_slots_free_as_the_window_slides(backend: Backend, clock: Clock) -> None:
    quota = Quota("general", limit=2, window=60)
    hit = hitter(backend, quota)
    await hit()
    clock.now += 30
    await hit()
    assert not (await hit()).allowed
    clock.now = T0 + 61  # the first request has left the window, the second has not
    again = await hit()
    assert again.allowed
    assert again.remaining == 0
    assert not (await hit()).allowed


async def test_a_burst_across_a_window_boundary_is_not_admitted_twice(backend: Backend, clock: Clock) -> None:
    """A fixed window would admit L at the end of one window and L again at the start of the next."""
    quota = Quota("general", limit=10, window=60)
    hit = hitter(backend, quota)
    clock.now = T0 + 59
    assert all([(await hit()).allowed for _ in range(10)])
    clock.now = T0 + 60.5  # a fixed 60-second window would have reset here
    assert not any([(await hit()).allowed for _ in range(10)])


async def test_never_more_than_the_limit_in_any_window(backend: Backend, clock: Clock) -> None:
    """Hammer at uneven intervals for four windows; check every window-long span of admitted requests."""
    quota = Quota("general", limit=7, window=10)
    hit = hitter(backend, quota)
    admitted: list[float] = []
    step = 0
    while clock.now < T0 + 40:
        if (await hit()).allowed:
            admitted.append(clock.now)
        step += 1
        clock.now += (0.05, 0.31, 0.7, 0.013)[step % 4]
    for index, start in enumerate(admitted):
        in_window = [t for t in admitted[index:] if t < start + quota.window]
        assert len(in_window) <= quota.limit
    assert len(admitted) >= 3 * quota.limit  # and it keeps admitting as the window slides


async def test_policies_and_subjects_never_share_counters(backend: Backend) -> None:
    general, auth = Quota("general", limit=2, window=60), Quota("auth", limit=2, window=60)
    for _ in range(2):
        await backend.hit([Hit(general, "ip:192.0.2.1")])
    assert not (await backend.hit([Hit(general, "ip:192.0.2.1")]))[0].allowed
    assert (await backend.hit([Hit(auth, "ip:192.0.2.1")]))[0].allowed
    assert (await backend.hit([Hit(general, "ip:192.0.2.2")]))[0].allowed
    assert (await backend.hit([Hit(general, "user:1")]))[0].allowed


async def test_several_policies_in_one_call(backend: Backend) -> None:
    general, auth = Quota("general", limit=5, window=60), Quota("auth", limit=1, window=60)
    first = await backend.hit([Hit(general, "ip:a"), Hit(auth, "ip:a")])
    second = await backend.hit([Hit(general, "ip:a"), Hit(auth, "ip:a")])
    assert [d.allowed for d in first] == [True, True]
    assert [d.allowed for d in second] == [True, False]
    assert [d.remaining for d in second] == [3, 0]


async def test_tiny_and_long_windows(backend: Backend, clock: Clock) -> None:
    per_second = hitter(backend, Quota("general", limit=3, window=1), "ip:s")
    per_day = hitter(backend, Quota("general", limit=1, window=86400), "ip:d")
    assert [(await per_second()).allowed for _ in range(4)] == [True, True, True, False]
    clock.now += 1.1
    assert (await per_second()).allowed
    assert (await per_day()).allowed
    refused = await per_day()
    assert not refused.allowed
    assert 86400 <= refused.reset <= 86400 + 1440


async def test_idle_clients_are_forgotten_in_process(clock: Clock) -> None:
    backend = InProcessBackend(clock=clock)
    quota = Quota("general", limit=5, window=60)
    for number in range(50):
        await backend.hit([Hit(quota, f"ip:{number}")])
    assert backend.tracked == 50
    clock.now += 62
    await backend.hit([Hit(quota, "ip:new")])
    assert backend.tracked == 1


async def test_redis_keys_expire_on_their_own(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url)
    try:
        await client.flushdb()
        hit = Hit(Quota("general", limit=5, window=2), "ip:expiring")
        await RedisBackend(client).hit([hit])
        ttl_ms = await client.pttl(hit.key)
        assert 0 < ttl_ms <= 2 * 1000 + 2 * 34
    finally:
        await client.aclose()


async def test_redis_script_is_reloaded_after_a_flush(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url)
    try:
        backend = RedisBackend(client)
        quota = Quota("general", limit=3, window=60)
        await backend.hit([Hit(quota, "ip:x")])
        await client.script_flush()
        allowance = (await backend.hit([Hit(quota, "ip:x")]))[0]  # NOSCRIPT, then EVAL
        assert allowance.allowed
        assert allowance.remaining == 1
    finally:
        await client.aclose()


async def test_redis_slides_on_its_own_clock(redis_server: RedisServer) -> None:
    """Real time, small window, the server's clock: a burst is cut at the limit and a slot frees after the window."""
    client = Redis.from_url(redis_server.url)
    try:
        await client.flushdb()
        backend = RedisBackend(client)
        hit = hitter(backend, Quota("general", limit=3, window=1), "ip:realtime")
        assert [(await hit()).allowed for _ in range(5)] == [True, True, True, False, False]
        await asyncio.sleep(1.1)
        assert (await hit()).allowed
    finally:
        await client.aclose()


def test_redis_replies_are_parsed_by_hiredis() -> None:
    """The limiter talks to Redis on every request: redis-py picks the C parser when hiredis is installed."""
    from redis._parsers import _AsyncHiredisParser  # noqa: PLC0415
    from redis.asyncio.connection import DefaultParser  # noqa: PLC0415

    assert DefaultParser is _AsyncHiredisParser
