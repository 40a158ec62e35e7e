"""`/api/users`: Users of the organization (admin only)."""

from __future__ import annotations

from litestar import Controller


class UserController(Controller):
    """Users of the organization (admin only)."""

    path = "/api/users"
