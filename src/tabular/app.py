"""The application factory: `uvicorn --factory tabular.app:create_app`."""

from __future__ import annotations

from litestar import Litestar

from tabular.plugin import TabularPlugin
from tabular.settings import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Assemble the application; with no settings, read them from `TABULAR_*` variables."""
    return Litestar(plugins=[TabularPlugin(settings or Settings.from_env())])
