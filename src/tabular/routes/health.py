"""Liveness and readiness probes; public by declaration and exempt from rate limiting."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from tabular.policies.declare import public
from tabular.schemas.health import Health, Readiness
from tabular.services.health import check_database, check_redis


class HealthController(Controller):
    """Probes for orchestrators and load balancers."""

    path = "/api"
    tags = ["health"]  # noqa: RUF012

    @get("/health", **public(), summary="Liveness: the process answers")
    async def health(self) -> Health:
        """Always 200 while the process serves requests."""
        return Health()

    @get(
        "/ready",
        **public(),
        summary="Readiness: the database (and Redis, when configured) answer",
        responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(Readiness, description="A backing service is down")},
    )
    async def ready(
        self, db_session: NamedDependency[AsyncSession], redis: NamedDependency[Redis | None]
    ) -> Response[Readiness]:
        """503 while a backing service is down, so traffic is routed elsewhere."""
        database, cache = await check_database(db_session), await check_redis(redis)
        ok = "down" not in (database, cache)
        body = Readiness(status="ready" if ok else "unavailable", database=database, redis=cache)
        return Response(body, status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE)
