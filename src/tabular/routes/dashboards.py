"""`/api/dashboards`: Dashboards: what clients may see."""

from __future__ import annotations

from litestar import Controller


class DashboardController(Controller):
    """Dashboards: what clients may see."""

    path = "/api/dashboards"
