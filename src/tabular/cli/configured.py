"""The settings a command runs with, read as the server reads them, minus the surprises.

A mistyped `TABULAR_*` variable is named on stderr (it would be ignored in silence), and a command that would
create a new SQLite database where none is (`tabular db upgrade` run from the wrong directory) stops instead:
only `serve`, `demo` and `db upgrade --create` make a database. A command that only reads the application's
declarations (`openapi`, `policy export|test|diff`) makes no file at all, not even the signing secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click
import msgspec
from sqlalchemy.engine import make_url

from tabular.cli.lazy import unknown_variables
from tabular.settings import DEFAULT_DATABASE_URL, Settings, SettingsError, normalize_database_url

_NOT_VARIABLES = frozenset({"secret_source"})
"""Settings fields no variable sets."""


def variable_names() -> frozenset[str]:
    """Every `TABULAR_*` variable a setting reads: one per field of `Settings`."""
    fields = msgspec.structs.fields(Settings)
    return frozenset(f"TABULAR_{field.name.upper()}" for field in fields if field.name not in _NOT_VARIABLES)


def configured(*, create_database: bool = False) -> Settings:
    """`Settings.from_env()`, after warning of unknown variables and, unless asked to, refusing a new database."""
    _warn_of_unknown_variables()
    if not create_database:
        _refuse_a_new_database(os.environ.get("TABULAR_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    return Settings.from_env()


def declarations_only() -> Settings:
    """The settings of a command that builds the app only to read what it declares (routes, policy, OpenAPI).

    Such a command signs, seals and stores nothing, so without `TABULAR_SECRET_KEY` it takes a secret of its
    own for the run instead of reading or writing `.tabular-secret` (which would appear in any directory the
    command was run from). It writes no database either; a caller may still read one (`policy test` reads the
    demo organization's people).
    """
    _warn_of_unknown_variables()
    if os.environ.get("TABULAR_SECRET_KEY", "").strip():
        return Settings.from_env()
    environ = {**os.environ, "TABULAR_SECRET_KEY": secrets.token_urlsafe(48)}
    unkept = "none kept (this command signs nothing)"
    return msgspec.structs.replace(Settings.from_env(environ), secret_source=unkept)


def _warn_of_unknown_variables() -> None:
    for warning in unknown_variables(os.environ, variable_names()):
        click.echo(f"tabular: warning: {warning}", err=True)


def _refuse_a_new_database(raw_url: str) -> None:
    try:
        url = make_url(normalize_database_url(raw_url))
    except ValueError as exc:
        raise SettingsError(f"TABULAR_DATABASE_URL: {exc}") from None
    database = url.database
    if not url.drivername.startswith("sqlite") or not database or database == ":memory:":
        return
    if not Path(database).exists():
        where = Path(database).resolve()
        raise click.ClickException(
            f"no database at {where}: set TABULAR_DATABASE_URL (or run from the directory that holds it), "
            "or create one with `tabular db upgrade --create`"
        )
