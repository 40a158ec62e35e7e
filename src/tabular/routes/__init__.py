"""HTTP routes: one thin Controller module per resource."""

from __future__ import annotations

from tabular.routes.health import HealthController

__all__ = ["ROUTE_HANDLERS"]

ROUTE_HANDLERS = [HealthController]
