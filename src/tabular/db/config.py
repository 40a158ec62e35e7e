"""Engine and session configuration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from tabular.settings import Settings

SESSION_DEPENDENCY_KEY = "db_session"


def make_db_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    """One config for the app and the CLI; the session commits when a handler answers 2xx/3xx."""
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        engine_config=EngineConfig(pool_pre_ping=not settings.is_sqlite),
        before_send_handler="autocommit",
        session_dependency_key=SESSION_DEPENDENCY_KEY,
        set_default_exception_handler=False,
        create_all=False,
    )
    if settings.is_sqlite:
        _tune_sqlite(config.get_engine())
    return config


def _tune_sqlite(engine: AsyncEngine) -> None:
    """Enforce foreign keys, and let readers and a writer share the file (WAL) without `database is locked`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: object) -> None:  # noqa: ANN401 - the DBAPI connection is untyped
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
