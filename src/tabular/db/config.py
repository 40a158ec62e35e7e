"""Engine and session configuration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, EngineConfig, SQLAlchemyAsyncConfig
from sqlalchemy import event

from tabular.db.outage import watch
from tabular.readiness import StateChanges

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from litestar.types import HTTPResponseStartEvent, Message, Scope
    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    BeforeCommit = Callable[[AsyncSession, HTTPResponseStartEvent, bytes], Awaitable[None]]

    from tabular.settings import Settings

SESSION_DEPENDENCY_KEY: Final = "db_session"
KEEP_ON_REFUSAL: Final = "tabular.keep_on_refusal"
"""Set in a session's `info` by a service whose work must outlive a 4xx answer (see `Actor.keep_on_refusal`)."""
BEFORE_COMMIT: Final = "tabular.before_commit"
AUDIT_KEY: Final = "tabular.audit_key"
"""In every session's `info`: the key the audit chain is appended and verified with (`Settings.audit_key`)."""


def make_db_config(settings: Settings, changes: StateChanges | None = None) -> SQLAlchemyAsyncConfig:
    """One config for the app and the CLI; a request's session ends in `tabular.transaction`, before its answer.

    Every session it makes carries the audit chain's key, so whoever may write to the database through the
    application (a request, an operator, a background task) appends events the same way. Its engine answers
    an outage as `Unavailable`, noted in `changes` (`db.outage`).
    """
    config = SQLAlchemyAsyncConfig(
        connection_string=settings.database_url,
        session_config=AsyncSessionConfig(expire_on_commit=False, info={AUDIT_KEY: settings.audit_key}),
        engine_config=EngineConfig(pool_pre_ping=not settings.is_sqlite),
        session_dependency_key=SESSION_DEPENDENCY_KEY,
        set_default_exception_handler=False,
        create_all=False,
    )
    config.before_send_handler = _leave_to_the_middleware
    engine = config.get_engine()
    watch(engine, changes or StateChanges())
    if settings.is_sqlite:
        _tune_sqlite(engine)
    return config


def before_commit(scope: Scope, hook: BeforeCommit) -> None:
    """Have `hook` write into the request's transaction, given its complete 2xx answer, just before it commits."""
    scope.setdefault(BEFORE_COMMIT, []).append(hook)  # type: ignore[typeddict-item]


async def _leave_to_the_middleware(_message: Message, _scope: Scope) -> None:
    """advanced-alchemy's `before_send` hook would end the session as the answer leaves; ours ends it first."""


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
