"""The application factories: `create_app` for any use, `serve_app` for `tabular serve` (uvicorn's factory)."""

from __future__ import annotations

import gc

from litestar import Litestar

from tabular.plugin import TabularPlugin
from tabular.settings import Settings


def create_app(settings: Settings | None = None) -> Litestar:
    """Assemble the application; with no settings, read them from `TABULAR_*` variables."""
    settings = settings or Settings.from_env()
    plugin = TabularPlugin(settings)
    # Litestar reads the app-wide body limit from its constructor only (an InitPlugin cannot change it)
    app = Litestar(plugins=[plugin], request_max_body_size=settings.max_body_size)
    app.asgi_handler = plugin.around_the_router(app.asgi_handler)  # the access log sees unrouted requests too
    return app


def serve_app() -> Litestar:
    """The application as a long-running server process runs it: `create_app`, and a frozen start-up heap."""
    app = create_app()
    app.on_startup.append(_freeze_what_start_up_made)
    return app


def _freeze_what_start_up_made() -> None:
    """Move every object alive after start-up out of the garbage collector's sight.

    The app, its routes, models and modules live as long as the process; left in the collector's oldest
    generation, each full collection walks them all (measured by bench/load.py's author: 100-120 ms pauses,
    which made the who-am-I p99). Only for a server: a test process builds hundreds of apps and would keep
    every one of them.
    """
    gc.collect()
    gc.freeze()
