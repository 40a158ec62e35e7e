"""Probes of the backing services, bounded in time so a hung dependency cannot hang the probe."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy import text

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster
    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.ratelimit.redis_backend import ResilientBackend
    from tabular.schemas.health import CheckState, LimiterMode

logger = logging.getLogger(__name__)

PROBE_TIMEOUT: Final = 2.0


async def check_database(session: AsyncSession) -> CheckState:
    """`ok` when `SELECT 1` answers within the probe timeout."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await session.execute(text("SELECT 1"))
    except Exception:
        logger.warning("readiness: database check failed", exc_info=True)
        return "down"
    return "ok"


async def check_redis(redis: Redis | RedisCluster | None) -> CheckState:
    """`ok` when PING answers within the probe timeout; `not_configured` without Redis."""
    if redis is None:
        return "not_configured"
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await redis.ping()
    except Exception:
        logger.warning("readiness: redis check failed", exc_info=True)
        return "down"
    return "ok"


def limiter_mode(backend: ResilientBackend, redis: CheckState) -> LimiterMode:
    """Which counters admit: this process's, Redis's, or this process's while Redis is down."""
    return "in_process_fallback" if backend.mode == "redis" and redis == "down" else backend.mode
