"""What every operator command shares: running as the operator on the migrated database, options read as bodies."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import msgspec

from tabular.auth.at_rest import AtRest
from tabular.cli.configured import configured
from tabular.db.config import make_db_config
from tabular.db.migrations import upgrade
from tabular.errors import readable
from tabular.services.actor import Actor

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from tabular.settings import Settings

_T = TypeVar("_T")
_S = TypeVar("_S", bound=msgspec.Struct)


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
                return await work(Actor(session, at_rest=AtRest(settings.secret_key)))
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
