"""Run the alembic chain from code, for `tabular serve`, `tabular db upgrade` and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from advanced_alchemy.types import GUID
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import Column, Connection
    from sqlalchemy.types import TypeEngine

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_CANDIDATES = (
    _PACKAGE_DIR / "migrations" / "alembic.ini",  # an installed wheel ships the chain inside the package
    _PACKAGE_DIR.parents[1] / "alembic.ini",  # a checkout (editable install) keeps it at the top level
)


def alembic_config(database_url: str) -> Config:
    """The alembic config of the migration chain, pointed at `database_url`."""
    ini = next((path for path in _CANDIDATES if path.is_file()), None)
    if ini is None:
        raise FileNotFoundError("the alembic migration chain is missing from this installation")
    config = Config(str(ini))
    config.set_main_option(
        "script_location", str(ini.parent / "alembic") if ini.parent.name != "migrations" else str(ini.parent)
    )
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


VERSION_TABLE = "alembic_version"
"""Where alembic records the revision a database is at (its default)."""


class MigrationRefusedError(RuntimeError):
    """A migration step will not run on this database as it stands; the message says why and what to do."""


AUDIT_KEY_ATTRIBUTE = "tabular.audit_key"
"""Where a migration that hashes audit events finds the key (`Settings.audit_key`), in the config's attributes."""


def upgrade(database_url: str, revision: str = "head", *, audit_key: bytes | None = None) -> None:
    """Bring the database to `revision`; safe to run on every start (a no-op when current).

    `audit_key` is needed only by a step that re-hashes existing audit events (0003, on a log that is not
    empty); such a step refuses to run without it.
    """
    config = alembic_config(database_url)
    config.attributes[AUDIT_KEY_ATTRIBUTE] = audit_key
    command.upgrade(config, revision)


def is_current(connection: Connection, database_url: str) -> bool:
    """Whether the database on `connection` is at the chain's head; it only reads (an empty one is not)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return False
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    return set(connection.scalars(text(f"SELECT version_num FROM {VERSION_TABLE}"))) == set(heads)  # noqa: S608


def downgrade(database_url: str, revision: str) -> None:
    """Step the database back to `revision` (`base` empties it)."""
    command.downgrade(alembic_config(database_url), revision)


def compare_type(
    context: MigrationContext,
    _inspected_column: Column[Any],
    _metadata_column: Column[Any],
    inspected_type: TypeEngine[Any],
    metadata_type: TypeEngine[Any],
) -> bool | None:
    """Autogenerate's type comparison, minus one false alarm.

    SQLite reflects advanced-alchemy's `GUID` (BINARY(16) there) as NUMERIC; the column is right, so it is
    no difference. Everything else gets alembic's default comparison (None).
    """
    if context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return inspected_type.__class__.__name__ not in {"NUMERIC", "BINARY", "_Binary"}
    return None
