"""What `tabular --help` needs and no more: a group whose commands are imported when run, and `.env` reading.

The commands import SQLAlchemy, advanced-alchemy and Litestar (seconds on a busy machine); `--help` lists
them from their names and one-line helps kept here, and imports none.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

if TYPE_CHECKING:
    from collections.abc import Iterable, MutableMapping


class LazyGroup(click.Group):
    """A group whose subcommands named in `lazy` (`name: ("module:attribute", "one-line help")`) load on use."""

    def __init__(self, *args: object, lazy: dict[str, tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands defined here and the lazy ones, by name."""
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command when it is about to run (or show its own help)."""
        if cmd_name not in self.lazy:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = self.lazy[cmd_name][0].partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, lazy ones described from `lazy` without importing them."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, self.lazy[name][1]))
            elif (command := super().get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


ENV_FILE: Final = ".env"


def read_env_file(environ: MutableMapping[str, str], directory: Path | None = None) -> None:
    """Add the `TABULAR_*` variables of `./.env` to `environ`; a variable already set wins.

    `NAME=value` lines, optionally `export NAME=value`, the value optionally quoted; `#` starts a comment line.
    """
    path = (directory or Path.cwd()) / ENV_FILE
    if not path.is_file():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip().removeprefix("export ").strip()
        name, equals, value = text.partition("=")
        name, value = name.strip(), value.strip()
        if text.startswith("#") or not equals or not name.startswith("TABULAR_"):
            continue
        if len(value) > 1 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        environ.setdefault(name, value)


def unknown_variables(environ: Iterable[str], known: Iterable[str]) -> list[str]:
    """A warning for each `TABULAR_*` variable no setting reads, with the closest known name when one is near."""
    names = sorted(known)
    warnings = []
    for variable in sorted(name for name in environ if name.startswith("TABULAR_") and name not in names):
        close = difflib.get_close_matches(variable, names, n=1, cutoff=0.75)
        warnings.append(f"unknown variable {variable}" + (f"; did you mean {close[0]}?" if close else ""))
    return warnings
