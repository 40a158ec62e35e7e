"""`/api/reports`: Reports (members and admins)."""

from __future__ import annotations

from litestar import Controller


class ReportController(Controller):
    """Reports (members and admins)."""

    path = "/api/reports"
