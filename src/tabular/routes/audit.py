"""`/api/audit`: The organization's audit log (admin only)."""

from __future__ import annotations

from litestar import Controller


class AuditController(Controller):
    """The organization's audit log (admin only)."""

    path = "/api/audit"
