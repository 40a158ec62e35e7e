"""The `tabular` command run in this process, through the installed script's own entry point.

A new interpreter spends seconds importing the stack before the command starts; `invoke` runs the same
`tabular.cli.main` with the same arguments, environment, working directory and exit code, and captures
what it writes. The real script still runs in `live.py`'s tests (`serve`, and a smoke test per group).
Call it from synchronous code, or from a worker thread (`invoke_in_thread`): the command runs its own
event loop.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anyio import to_thread

from tabular.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@dataclass(frozen=True)
class Result:
    """What the command left: its exit code and its output, as a finished process would."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(variables: dict[str, str]) -> Iterator[None]:
    """This process's environment without any TABULAR_ variable, plus `variables`, for the block."""
    saved = dict(os.environ)
    for name in [name for name in os.environ if name.startswith("TABULAR_")]:
        del os.environ[name]
    os.environ.update(variables)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def invoke(*args: str, cwd: Path, **variables: str) -> Result:
    """`tabular ARGS` in `cwd` with only `variables` of TABULAR_*, run in this process (never raises SystemExit)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code: int | str | None = 0
    with (
        _environment(variables),
        contextlib.chdir(cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        saved_argv, sys.argv = sys.argv, ["tabular", *args]
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
        finally:
            sys.argv = saved_argv
    return Result(code if isinstance(code, int) else 1, stdout.getvalue(), stderr.getvalue())


async def invoke_in_thread(*args: str, cwd: Path, **variables: str) -> Result:
    """`invoke` from an async test: the command's event loop runs in a worker thread."""
    return await to_thread.run_sync(functools.partial(invoke, *args, cwd=cwd, **variables))
