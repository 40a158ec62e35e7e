"""`tabular db`: the schema's migrations, run on the configured database (never a new one by accident)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from alembic import command

from tabular.cli.configured import configured
from tabular.db.migrations import alembic_config, downgrade, upgrade
from tabular.settings import DEFAULT_DATABASE_URL

if TYPE_CHECKING:
    from alembic.config import Config


@click.group()
def db() -> None:
    """Database schema: upgrade, downgrade, current, history."""


@db.command("upgrade")
@click.argument("revision", default="head")
@click.option("--create", is_flag=True, help="Create the SQLite database if it does not exist yet.")
def db_upgrade(revision: str, *, create: bool) -> None:
    """Apply the pending migrations up to REVISION (default: every one)."""
    settings = configured(create_database=create)
    upgrade(settings.database_url, revision, audit_key=settings.audit_key)
    click.echo("database is up to date" if revision == "head" else f"database is at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Step the schema back to REVISION (`-- -1` for one step, `base` to empty it): data in dropped tables is lost."""
    downgrade(configured().database_url, revision)
    click.echo(f"database is at {revision}")


@db.command("current")
def db_current() -> None:
    """Print the database's migration revision."""
    command.current(_printing(configured().database_url))


@db.command("history")
def db_history() -> None:
    """Print the migration chain, newest first (no database needed)."""
    command.history(_printing(DEFAULT_DATABASE_URL))  # reads the chain's files; connects to nothing


def _printing(database_url: str) -> Config:
    """The chain's config, printing to the standard output of now (alembic's default is the one at its import)."""
    config = alembic_config(database_url)
    config.stdout = sys.stdout
    return config
