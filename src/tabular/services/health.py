"""Probes of the backing services, bounded in time so a hung dependency cannot hang the probe.

A failed probe is logged when the state changes (one line when a service goes down, one when it answers
again), not on every probe: an orchestrator probing every few seconds during an outage would otherwise
fill the log with the same traceback.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Final

from sqlalchemy import make_url, text

from tabular import __version__

if TYPE_CHECKING:
    from redis.asyncio import Redis, RedisCluster
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from tabular.ratelimit.redis_backend import ResilientBackend
    from tabular.readiness import StateChanges
    from tabular.schemas.health import CheckState, LimiterMode
    from tabular.settings import Settings

logger = logging.getLogger(__name__)

PROBE_TIMEOUT: Final = 2.0


async def check_database(session: AsyncSession, changes: StateChanges) -> CheckState:
    """`ok` when `SELECT 1` answers within the probe timeout."""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure is "down", and says which
        return changes.note("database", "down", exc)
    return changes.note("database", "ok")


async def check_redis(redis: Redis | RedisCluster | None, changes: StateChanges) -> CheckState:
    """`ok` when PING answers within the probe timeout; `not_configured` without Redis."""
    if redis is None:
        return "not_configured"
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            await redis.ping()
    except Exception as exc:  # noqa: BLE001 - as above
        return changes.note("redis", "down", exc)
    return changes.note("redis", "ok")


async def announce(settings: Settings, engine: AsyncEngine, limiter: ResilientBackend, changes: StateChanges) -> str:
    """The start-up line: the database (no password), its migration revision, the secret's source, the limiter.

    Logged once when the app starts, so an operator sees what this process runs on, and a Redis that does
    not answer is said at once rather than at the first request.
    """
    try:
        async with asyncio.timeout(PROBE_TIMEOUT), engine.connect() as connection:
            revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception as exc:  # noqa: BLE001 - said in the line; the first request will fail loudly
        revision = f"unknown ({type(exc).__name__})"
    redis = await check_redis(limiter.redis, changes)
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    line = (
        f"tabular {__version__}: database {database} at revision {revision}; secret from {settings.secret_source}; "
        f"rate limiter {limiter_mode(limiter, redis)}"
        + ("" if redis == "not_configured" else f" (Redis {'answered' if redis == 'ok' else 'did not answer'})")
    )
    logger.info("%s", line)
    return line


def limiter_mode(backend: ResilientBackend, redis: CheckState) -> LimiterMode:
    """Which counters admit: this process's, Redis's, or this process's while Redis is down."""
    return "in_process_fallback" if backend.mode == "redis" and redis == "down" else backend.mode
