"""Work that runs beside the requests and needs the database: the webhook worker and the key-use writer.

Litestar leaves lifespan managers in the reverse order it entered them, and only then runs `on_shutdown`
hooks; advanced-alchemy's init plugin's manager disposes the engine as it leaves. Work stopped by an `on_shutdown`
hook could therefore still hold a connection when the engine is disposed, and that connection is never
closed (asyncpg warns when it is collected), and a write cut short loses what it held. `AfterTheDatabase`
is a plugin listed after that init plugin: its manager is entered after the engine exists and left before
the engine is disposed.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from litestar.plugins import InitPluginProtocol

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from litestar import Litestar
    from litestar.config.app import AppConfig

    from tabular.auth.key_usage import KeyUsage
    from tabular.webhooks.worker import DeliveryWorker


class AfterTheDatabase(InitPluginProtocol):
    """Starts the webhook worker (when this process runs one) with the app.

    At shutdown it stops the worker and writes the key uses still pending, while the engine is still there.
    """

    def __init__(self, key_usage: KeyUsage, worker: DeliveryWorker | None) -> None:
        self._key_usage = key_usage
        self._worker = worker

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Register the lifespan manager (this plugin must come after advanced-alchemy's init plugin)."""
        app_config.lifespan.append(self._running)
        return app_config

    @asynccontextmanager
    async def _running(self, _: Litestar) -> AsyncIterator[None]:
        if self._worker is not None:
            await self._worker.start()
        try:
            yield
        finally:
            if self._worker is not None:
                await self._worker.stop()
            await self._key_usage.close()
