"""Engine and session configuration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar.constants import HTTP_RESPONSE_START
from sqlalchemy import event

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine

    from litestar.types import Message, Scope
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from tabular.settings import Settings

SESSION_DEPENDENCY_KEY: Final = "db_session"
KEEP_ON_REFUSAL: Final = "tabular.keep_on_refusal"
"""Set in a session's `info` by a service whose work must outlive a 4xx answer (see `Actor.keep_on_refusal`)."""
AUDIT_KEY: Final = "tabular.audit_key"
"""In every session's `info`: the key the audit chain is appended and verified with (`Settings.audit_key`)."""

logger = logging.getLogger(__name__)


def make_db_config(settings: Settings) -> SQLAlchemyAsyncConfig:
    """One config for the app and the CLI; a request's session commits or rolls back in `transaction_end`.

    Every session it makes carries the audit chain's key, so whoever may write to the database through the
    application (a request, an operator, a background task) appends events the same way.
    """
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        session_config=AsyncSessionConfig(expire_on_commit=False, info={AUDIT_KEY: settings.audit_key}),
        engine_config=EngineConfig(pool_pre_ping=not settings.is_sqlite),
        session_dependency_key=SESSION_DEPENDENCY_KEY,
        set_default_exception_handler=False,
        create_all=False,
    )
    config.before_send_handler = transaction_end(config.session_scope_key)  # the key is unique per config
    if settings.is_sqlite:
        _tune_sqlite(config.get_engine())
    return config


def transaction_end(scope_key: str) -> Callable[[Message, Scope], Coroutine[Any, Any, None]]:
    """The one place a request's transaction ends: committed on 2xx/3xx, rolled back otherwise.

    A refusal (4xx) still commits what a service marked to keep, such as a failed sign-in's audit event;
    a server error (5xx) never commits.
    """

    async def end(message: Message, scope: Scope) -> None:
        session: AsyncSession | None = get_aa_scope_state(scope, scope_key)
        if session is None or message["type"] not in SESSION_TERMINUS_ASGI_EVENTS:
            return
        try:
            status = message["status"] if message["type"] == HTTP_RESPONSE_START else 499  # 499: the client left
            if status < 400 or (status < 500 and session.info.get(KEEP_ON_REFUSAL)):  # noqa: PLR2004
                await session.commit()
            else:
                await session.rollback()
        except Exception:
            logger.exception("the transaction of a request could not end")
        finally:
            await session.close()
            delete_aa_scope_state(scope, scope_key)

    return end


def _tune_sqlite(engine: AsyncEngine) -> None:
    """Enforce foreign keys, and let readers and a writer share the file (WAL) without `database is locked`."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: object) -> None:  # noqa: ANN401 - the DBAPI connection is untyped
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()
