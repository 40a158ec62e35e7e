"""The `tabular` command: serve, migrate, and operate on users, keys and demo data.

This module is what `tabular --help` imports, so it imports click and little else: each command lives in a
module of its own, loaded when it runs (`lazy.LazyGroup`), and errors are recognised by the modules that
raise them, which are loaded by then.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Final, NoReturn

import click

from tabular import __version__
from tabular.cli.lazy import LazyGroup, read_env_file


def main() -> NoReturn:
    """Entry point: every failure is one line on stderr and a non-zero exit, never a traceback."""
    read_env_file(os.environ)
    try:
        status = cli.main(standalone_mode=False)  # a command's `click.exceptions.Exit` comes back as its status
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", 1)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except Exception as exc:
        message = _expected(exc)
        if message is None:
            raise
        _fail(message, 1)
    sys.exit(status if isinstance(status, int) else 0)


def _expected(exc: Exception) -> str | None:
    """The one-line message of a failure the application raises on purpose; None for anything else (a bug).

    The modules are looked up, not imported: one that raised is loaded, and one that is not loaded raised nothing.
    """
    errors, settings, migrations = (
        sys.modules.get(f"tabular.{name}") for name in ("errors", "settings", "db.migrations")
    )
    if errors is not None and isinstance(exc, errors.TabularError):
        return str(exc.detail)
    if (settings is not None and isinstance(exc, settings.SettingsError)) or (
        migrations is not None and isinstance(exc, migrations.MigrationRefusedError)
    ):
        return str(exc)
    return None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"tabular: error: {message}", err=True)
    sys.exit(code)


SERVER_OPTIONS: Final[dict[str, Any]] = {
    "loop": "uvloop",
    "http": "httptools",
    "proxy_headers": False,  # client IPs come from TABULAR_TRUSTED_PROXIES only
    "server_header": False,
    "access_log": False,  # the app writes its own, structured and off the event loop (TABULAR_ACCESS_LOG)
    # A worker imports the whole stack (~3 s on one core); uvicorn's 5 s default restarts slow starters in a
    # loop on a busy 2-core machine.
    "timeout_worker_healthcheck": 60,
}
"""How `tabular serve` runs uvicorn; `bench/bare.py` runs its baseline the same way."""

COMMANDS: Final = {
    "serve": ("tabular.cli.commands:serve", "Apply migrations, then serve the API."),
    "db": ("tabular.cli.database:db", "Database schema: upgrade, downgrade, current, history."),
    "demo": ("tabular.cli.commands:demo", "Create (or refresh) a demo organization; prints its users' credentials."),
    "openapi": ("tabular.cli.commands:openapi", "Export the OpenAPI 3.1 document (every operation with its policy)."),
    "users": ("tabular.cli.accounts:users", "User accounts."),
    "keys": ("tabular.cli.accounts:keys", "API keys, for operators."),
    "audit": ("tabular.cli.audit:audit", "The audit log."),
    "policy": ("tabular.cli.policy:policy", "The permission policy: the matrix, why a request is allowed or refused…"),
}
"""Every command, by name: where it is defined and the line `--help` shows for it (`tests/unit` checks both)."""


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="tabular")
def cli() -> None:
    """Tabular: the survey platform API and its auth and permission engine.

    Variables (TABULAR_*) are read from the environment and from a `.env` file in the working directory
    (the environment wins). Only `serve`, `demo` and `db upgrade --create` create a new SQLite database.
    """
