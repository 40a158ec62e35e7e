"""`/api/workspaces`: Workspaces and their members (admin manages; members and clients list their own)."""

from __future__ import annotations

from litestar import Controller


class WorkspaceController(Controller):
    """Workspaces and their members (admin manages; members and clients list their own)."""

    path = "/api/workspaces"
