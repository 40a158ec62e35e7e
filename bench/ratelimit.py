"""Rate-limiter costs: time per allowance, Redis commands per request, memory per tracked client.

Run: `uv run python bench/ratelimit.py` (starts its own redis-server on a free loopback port, ~20 s).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from redis.asyncio import Redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.support.servers

from tests.support.servers import RedisServer

from tabular.ratelimit.redis_backend import RedisBackend
from tabular.ratelimit.window import Backend, Hit, InProcessBackend, Quota

POLICY = Quota("general", limit=1000, window=900)
AUTH = Quota("auth", limit=20, window=900)
ROUNDS = 5000


async def per_decision(backend: Backend, hits: list[Hit]) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await backend.hit(hits)
        samples.append(time.perf_counter() - start)
    return samples


def line(label: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    return (
        f"{label:<46} median {statistics.median(ordered) * 1e6:8.1f} µs   "
        f"p99 {ordered[int(len(ordered) * 0.99)] * 1e6:8.1f} µs"
    )


async def commands_sent(client: Redis) -> int:
    """Commands clients sent (EVALSHA/EVAL), not the ones the script runs inside Redis."""
    stats = await client.info("commandstats")
    return sum(int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval"))


async def main() -> None:
    in_process = InProcessBackend()
    print(line("in-process, one quota", await per_decision(in_process, [Hit(POLICY, "user:a")])))
    print(
        line(
            "in-process, two quotas (POST /api/auth)",
            await per_decision(in_process, [Hit(POLICY, "ip:b"), Hit(AUTH, "ip:b")]),
        )
    )

    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory))
        server.start()
        client = Redis.from_url(server.url)
        try:
            redis = RedisBackend(client)
            await redis.hit([Hit(POLICY, "warm-up")])
            before = await commands_sent(client)
            samples = await per_decision(redis, [Hit(POLICY, "user:c")])
            after = await commands_sent(client)
            print(line("redis (loopback), one quota", samples))
            print(f"{'redis commands per request, one quota':<46} {(after - before) / ROUNDS:.2f} (EVALSHA)")
            before = await commands_sent(client)
            samples = await per_decision(redis, [Hit(POLICY, "ip:d"), Hit(AUTH, "ip:d")])
            after = await commands_sent(client)
            print(line("redis (loopback), two quotas pipelined", samples))
            print(f"{'redis commands per request, two quotas':<46} {(after - before) / ROUNDS:.2f} (one round trip)")

            # Worst case for 1000/15m: a client active in every one of the 61 buckets of its look-back.
            clock = [1_800_000_000.0]
            timed = RedisBackend(client, clock=lambda: clock[0])
            hit = Hit(POLICY, "user:busy")
            for _ in range(1000):
                await timed.hit([hit])
                clock[0] += 900 / 1000 * 1.01
            fields = await client.hlen(hit.key)
            memory = await client.memory_usage(hit.key)
            print(f"{'redis memory per tracked client (1000/15m)':<46} {memory} bytes ({fields} counters, worst case)")
        finally:
            await client.aclose()
            server.stop()

    tracemalloc.start()
    backend = InProcessBackend(clock=lambda: clock[0])
    base = tracemalloc.get_traced_memory()[0]
    for number in range(1000):
        for step in range(61):
            clock[0] = 1_800_000_000.0 + step * 15
            await backend.hit([Hit(POLICY, f"user:{number}")])
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    print(f"{'in-process memory per tracked client (1000/15m)':<46} {used / 1000:.0f} bytes (61 counters, worst case)")


if __name__ == "__main__":
    asyncio.run(main())
