"""A database that cannot be reached is one error (`DatabaseUnavailable`) for every caller, said once in the log.

The engine itself tells: SQLAlchemy hands every failure of a connection (at connect, in a statement, at
commit) to the `handle_error` event, and every new connection to `do_connect`, whoever the caller is — a
request, the auth engine's lookups, the key-use writer, the webhook worker. There a lost connection, a server
that refuses or is shutting down, or a SQLite file that cannot be written becomes `DatabaseUnavailable` (a 503
`database_unavailable` for the API: `errors.as_tabular`); anything else (a constraint, a bug) stays what it was.
The readiness record (`StateChanges`) logs the first failure and, when a new connection is next made (the pool
discards the old ones on a disconnect), the recovery with how long it lasted.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, Final

from asyncpg.exceptions import InterfaceError, PostgresError  # type: ignore[import-untyped]
from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect, ExceptionContext
    from sqlalchemy.ext.asyncio import AsyncEngine

    from tabular.readiness import StateChanges

SERVICE: Final = "database"

_POSTGRES_UNAVAILABLE: Final = frozenset({"57P01", "57P02", "57P03", "53300"})
"""Admin or crash shutdown, cannot connect now (starting or stopping), too many connections; class 08 besides."""
_SQLITE_UNAVAILABLE: Final = frozenset(
    {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL}
)
_SQLITE_CONTENTION: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class DatabaseUnavailable(Exception):
    """The database cannot be reached or cannot take the work: nothing was stored; the request may be retried."""


def watch(engine: AsyncEngine, changes: StateChanges) -> None:
    """Turn the engine's unavailability into `DatabaseUnavailable`, noted in `changes` (down, then up again)."""

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> DatabaseUnavailable | None:
        if context.is_pre_ping:  # the pool is testing a connection it will replace: not ours to answer
            return None
        error = context.original_exception
        if not (context.is_disconnect or context.connection is None or _unreachable(error)):
            return None
        if _sqlite_code(error) not in _SQLITE_CONTENTION:  # a busy file is contention, not an outage
            changes.note(SERVICE, "down", error)
        return DatabaseUnavailable(type(error).__name__)

    @event.listens_for(engine.sync_engine, "do_connect")
    def _connect(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:  # noqa: ANN401 - the driver's
        """Connect as the dialect would, judging here the refusals `handle_error` never sees.

        Those are the ones that are not DBAPI errors: an `OSError`, asyncpg's own.
        """
        try:
            connection = dialect.connect(*cargs, **cparams)
        except dialect.loaded_dbapi.Error:
            raise  # `handle_error` judges these
        except (OSError, TimeoutError, PostgresError, InterfaceError) as error:
            changes.note(SERVICE, "down", error)
            raise DatabaseUnavailable(type(error).__name__) from error
        changes.note(SERVICE, "ok")
        return connection


def _unreachable(error: BaseException) -> bool:
    """Whether a statement failed because the database is gone or cannot take writes, not because of the statement."""
    cause = error.__cause__ or error  # asyncpg's error behind the DBAPI adapter's
    state = getattr(cause, "sqlstate", None) or getattr(error, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith("08") or state in _POSTGRES_UNAVAILABLE
    return _sqlite_code(error) in _SQLITE_UNAVAILABLE or isinstance(cause, OSError)


def _sqlite_code(error: BaseException) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None  # the primary code under an extended one
