"""`tabular --help` stays light, `.env` files are read without overriding the environment, and a mistyped
variable is named."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from tabular.cli import COMMANDS, cli
from tabular.cli.configured import variable_names
from tabular.cli.lazy import read_env_file, unknown_variables

HEAVY = ("sqlalchemy", "advanced_alchemy", "litestar", "alembic", "uvicorn")


def test_the_command_group_imports_no_part_of_the_server_stack() -> None:
    probe = f"import sys, tabular.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_help_lists_every_command_with_the_line_its_module_gives() -> None:
    context = click.Context(cli)
    for name, (_, line) in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None
        assert command.name == name
        assert (command.help or "").startswith(line.removesuffix("…")), name


def test_an_env_file_adds_tabular_variables_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# a comment\n"
        "TABULAR_PORT=9000\n"
        "export TABULAR_HOST='::1'\n"
        'TABULAR_DATABASE_URL="sqlite:///elsewhere.db"\n'
        "TABULAR_RATE_LIMIT=5/1m\n"
        "OTHER=ignored\n"
        "not a line\n",
        encoding="utf-8",
    )
    environ = {"TABULAR_RATE_LIMIT": "9/1h"}
    read_env_file(environ, tmp_path)
    assert environ == {
        "TABULAR_PORT": "9000",
        "TABULAR_HOST": "::1",
        "TABULAR_DATABASE_URL": "sqlite:///elsewhere.db",
        "TABULAR_RATE_LIMIT": "9/1h",
    }


def test_no_env_file_changes_nothing(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    read_env_file(environ, tmp_path)
    assert environ == {}


def test_an_unknown_variable_is_named_with_the_nearest_known_one() -> None:
    known = variable_names()
    assert {"TABULAR_RATE_LIMIT", "TABULAR_DATABASE_URL", "TABULAR_SECRET_KEY"} <= known
    assert "TABULAR_SECRET_SOURCE" not in known
    environ = ["TABULAR_RATELIMIT", "TABULAR_RATE_LIMIT", "TABULAR_FROBNICATE", "PATH"]
    assert unknown_variables(environ, known) == [
        "unknown variable TABULAR_FROBNICATE",
        "unknown variable TABULAR_RATELIMIT; did you mean TABULAR_RATE_LIMIT?",
    ]
