"""What every operator command shares: acting as the operator on the migrated database, or only reading it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click
import msgspec
from sqlalchemy import make_url, text

from tabular.auth.at_rest import AtRest
from tabular.cli.configured import configured
from tabular.db.config import make_db_config
from tabular.db.migrations import is_current, upgrade
from tabular.errors import readable
from tabular.services.actor import Actor

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from tabular.settings import Settings

_T = TypeVar("_T")
_S = TypeVar("_S", bound=msgspec.Struct)
_READ_ONLY: Final = {"sqlite": "PRAGMA query_only = ON", "postgresql": "SET TRANSACTION READ ONLY"}


def run_as_operator(
    work: Callable[[Actor], Awaitable[_T]], settings: Settings | None = None, *, create_database: bool = False
) -> _T:
    """Run `work` as the operator, in one committed transaction on the migrated configured database.

    Without `settings` they are read here, and a database that does not exist yet is refused unless
    `create_database` (see `configured`).
    """
    settings = settings or configured(create_database=create_database)
    upgrade(settings.database_url, audit_key=settings.audit_key)

    async def run() -> _T:
        config = make_db_config(settings)
        try:
            async with config.get_session() as session, session.begin():
                return await work(Actor(session, at_rest=AtRest.of(settings)))
        finally:
            await config.get_engine().dispose()

    result: _T = asyncio.run(run())
    return result


def run_read_only(work: Callable[[AsyncSession], Awaitable[_T]], settings: Settings, *, unready: str) -> _T:
    """Run `work` in one read-only transaction on the database of `settings`, rolled back: it writes nothing.

    Nothing is migrated (that would write): a database that does not exist or is not at this version's
    schema fails the command with the message `unready` (a missing one is never created). The database
    itself refuses a write, should one be attempted (a read-only transaction; `query_only` on SQLite).
    """
    path = make_url(settings.database_url).database if settings.is_sqlite else None
    if path is not None and path != ":memory:" and not Path(path).is_file():  # connecting would create it
        raise click.ClickException(unready)

    async def run() -> _T:
        config = make_db_config(settings)
        try:
            async with config.get_session() as session:
                try:
                    await session.execute(text(_READ_ONLY["sqlite" if settings.is_sqlite else "postgresql"]))
                    if not await session.run_sync(lambda sync: is_current(sync.connection(), settings.database_url)):
                        raise click.ClickException(unready)
                    return await work(session)
                finally:
                    await session.rollback()
        finally:
            await config.get_engine().dispose()

    result: _T = asyncio.run(run())
    return result


def decoded(kind: type[_S], fields: dict[str, Any]) -> _S:
    """Options checked by the rules the API's body of the same kind obeys; a broken one is a usage error."""
    try:
        return msgspec.convert(fields, kind)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`") if "$." in str(exc) else None
        message = readable(str(exc).split(" - at ")[0])
        raise click.BadParameter(message, param_hint=f"--{field.replace('_', '-')}" if field else None) from None


def write(text: str, output: str | None) -> None:
    """Print `text`, or write it to the file `output`."""
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
