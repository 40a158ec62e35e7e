"""HTTP routes: one thin Controller module per resource."""

from __future__ import annotations

from tabular.routes.auth import AuthController
from tabular.routes.health import HealthController
from tabular.routes.keys import ApiKeyController
from tabular.routes.mfa import MfaController

__all__ = ["ROUTE_HANDLERS"]

ROUTE_HANDLERS = [HealthController, AuthController, MfaController, ApiKeyController]
