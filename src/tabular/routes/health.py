"""Liveness and readiness probes; public by declaration and exempt from rate limiting."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.policies.requirements import public
from tabular.ratelimit.redis_backend import ResilientBackend
from tabular.readiness import StateChanges
from tabular.schemas.health import Health, Readiness, ReadinessStatus
from tabular.services.health import check_database, check_redis, limiter_mode


class HealthController(Controller):
    """Probes for orchestrators and load balancers."""

    path = "/api"
    tags = ["health"]  # noqa: RUF012

    @get("/health", **public(rate_limited=False, database=False), summary="Liveness: the process answers")
    async def health(self) -> Health:
        """Always 200 while the process serves requests."""
        return Health()

    @get(
        "/ready",
        **public(
            rate_limited=False,
            responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(Readiness, description="A backing service is down")},
        ),
        summary="Readiness: the database (and Redis, when configured) answer; which rate limiter counts",
    )
    async def ready(
        self,
        db_session: NamedDependency[AsyncSession],
        rate_limiter: NamedDependency[ResilientBackend],
        state: State,
    ) -> Response[Readiness]:
        """503 while the database is down, so traffic is routed elsewhere; 200 `degraded` without Redis."""
        changes: StateChanges = state.readiness_changes
        database, cache = await check_database(db_session, changes), await check_redis(rate_limiter.redis, changes)
        status: ReadinessStatus = "unavailable" if database == "down" else "degraded" if cache == "down" else "ready"
        body = Readiness(status=status, database=database, redis=cache, limiter=limiter_mode(rate_limiter, cache))
        return Response(body, status_code=HTTP_503_SERVICE_UNAVAILABLE if database == "down" else HTTP_200_OK)
